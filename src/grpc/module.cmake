# gRPC layer (docs/grpc.md): unary server and client on libgrpc's C core API,
# protobuf-c messages generated from protos/*.proto, the Attestation, RVPS and
# health services, the remote-AS client the KBS uses and the remote RVPS.
set(TRUSTEE_GRPC_PROTOS attestation reference health)
set(TRUSTEE_GRPC_GEN_DIR ${CMAKE_BINARY_DIR}/generated/grpc)
file(MAKE_DIRECTORY ${TRUSTEE_GRPC_GEN_DIR})
find_program(PROTOC_C protoc-c REQUIRED)
set(TRUSTEE_GRPC_GEN_SRCS)
set(TRUSTEE_GRPC_GEN_HDRS)
foreach(p IN LISTS TRUSTEE_GRPC_PROTOS)
  set(out_c ${TRUSTEE_GRPC_GEN_DIR}/${p}.pb-c.c)
  set(out_h ${TRUSTEE_GRPC_GEN_DIR}/${p}.pb-c.h)
  add_custom_command(
    OUTPUT ${out_c} ${out_h}
    COMMAND ${PROTOC_C} -I${CMAKE_CURRENT_LIST_DIR}/protos --c_out=${TRUSTEE_GRPC_GEN_DIR}
            ${CMAKE_CURRENT_LIST_DIR}/protos/${p}.proto
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/protos/${p}.proto
    COMMENT "protoc-c ${p}.proto"
    VERBATIM)
  list(APPEND TRUSTEE_GRPC_GEN_SRCS ${out_c})
  list(APPEND TRUSTEE_GRPC_GEN_HDRS ${out_h})
endforeach()
set_source_files_properties(${TRUSTEE_GRPC_GEN_SRCS} PROPERTIES GENERATED TRUE
  COMPILE_OPTIONS "-Wno-unused-parameter;-Wno-sign-compare")

trustee_module(grpc
  DEPS core as rvps kv verifier
  LIBS PkgConfig::GRPC PkgConfig::PROTOBUFC PkgConfig::JANSSON Threads::Threads)
if(TARGET trustee_grpc_obj)
  target_sources(trustee_grpc_obj PRIVATE ${TRUSTEE_GRPC_GEN_SRCS} ${TRUSTEE_GRPC_GEN_HDRS})
endif()
