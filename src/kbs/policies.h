/* policies.h — the built-in resource policies (behaviour of upstream's
 * kbs/sample_policies: default, allow_all, deny_all, affirming). Header-only
 * so kbs-client's --allow-all/--deny-all/--affirming/--default can send the
 * same texts. `data.plugin` is the URL plugin segment; `input` the token claims. */
#ifndef TRUSTEE_KBS_POLICIES_H
#define TRUSTEE_KBS_POLICIES_H

/* Installed when no resource policy is stored: releases `resource` plugin
 * data to any attested TEE except the sample (non-TEE) one. */
#define KBS_POLICY_DEFAULT                                                                                   \
  "package policy\n\n"                                                                                       \
  "default allow = false\n\n"                                                                                \
  "plugin = data.plugin\n\n"                                                                                 \
  "allow if {\n"                                                                                             \
  "\tplugin == \"resource\"\n"                                                                               \
  "\tnot input[\"submods\"][\"cpu0\"][\"ear.veraison.annotated-evidence\"][\"sample\"]\n"                    \
  "}\n"

#define KBS_POLICY_ALLOW_ALL                                                                                 \
  "package policy\n\n"                                                                                       \
  "default allow = false\n\n"                                                                                \
  "plugin = data.plugin\n\n"                                                                                 \
  "allow if {\n"                                                                                             \
  "\tplugin == \"resource\"\n"                                                                               \
  "}\n"

#define KBS_POLICY_DENY_ALL                                                                                  \
  "package policy\n\n"                                                                                       \
  "default allow = false\n"

#define KBS_POLICY_AFFIRMING                                                                                 \
  "package policy\n"                                                                                         \
  "import rego.v1\n\n"                                                                                       \
  "default allow = false\n\n"                                                                                \
  "allow if {\n"                                                                                             \
  "    not any_not_affirming\n"                                                                              \
  "    count(input.submods) > 0\n"                                                                           \
  "}\n\n"                                                                                                    \
  "any_not_affirming if {\n"                                                                                 \
  "    some _, submod in input.submods\n"                                                                    \
  "    submod[\"ear.status\"] != \"affirming\"\n"                                                            \
  "}\n"

#endif
