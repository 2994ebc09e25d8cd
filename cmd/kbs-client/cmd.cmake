trustee_cmd(kbs-client DEPS client)
