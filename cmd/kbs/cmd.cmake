trustee_cmd(kbs DEPS kbs)
