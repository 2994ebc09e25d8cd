trustee_cmd(rvps-tool DEPS grpc)
