trustee_cmd(trustee-rego DEPS rego)
