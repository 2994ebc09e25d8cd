trustee_cmd(rvps DEPS grpc)
