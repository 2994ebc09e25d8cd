trustee_cmd(grpc-as DEPS grpc)
