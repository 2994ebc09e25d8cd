trustee_cmd(restful-as DEPS as grpc)
