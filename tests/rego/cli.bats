#!/usr/bin/env bats
# trustee-rego: eval/check behaviour, exit codes and error locations.

setup() {
  BIN="${TRUSTEE_BUILD_DIR}/trustee-rego"
  V="${TRUSTEE_SHARED_DIR}/vectors/trustee"
  T="$(mktemp -d)"
}

teardown() {
  rm -rf "$T"
}

@test "eval: OPA result shape, false is a value" {
  echo '{"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"sample":{}}}}}' > "$T/in.json"
  echo '{"plugin":"resource","resource-path":["a","b","c"]}' > "$T/data.json"
  run "$BIN" eval -d "$V/kbs/sample_policies/default.rego" -d "$T/data.json" -i "$T/in.json" data.policy.allow
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '.result[0].expressions[0].value')" = "false" ]
  [ "$(echo "$output" | jq -r '.result[0].expressions[0].text')" = "data.policy.allow" ]
}

@test "eval: bindings and undefined" {
  printf 'package p\nxs := [1, 2, 3]\n' > "$T/p.rego"
  run "$BIN" eval -d "$T/p.rego" 'x := data.p.xs[_]; x > 1'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '[.result[].bindings.x]')" = "[2,3]" ]
  run "$BIN" eval -d "$T/p.rego" 'data.p.xs[_] > 5'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c .)" = "{}" ]
}

@test "eval: large integers round-trip exactly" {
  echo '{"n": 18446744073709551617}' > "$T/in.json"
  run "$BIN" eval -i "$T/in.json" --format pretty 'input.n + 1'
  [ "$status" -eq 0 ]
  [ "$output" = "18446744073709551618" ]
  run "$BIN" eval -i "$T/in.json" 'x := input.n'
  [ "$status" -eq 0 ]
  [[ "$output" =~ \"x\":\ 18446744073709551617 ]]
}

@test "eval: directory loading mounts data files at their directory" {
  mkdir -p "$T/d/a/b"
  echo '{"v": 7}' > "$T/d/a/b/data.json"
  printf 'package q\ny := data.a.b.v + 1\n' > "$T/d/q.rego"
  run "$BIN" eval -d "$T/d" --format pretty data.q.y
  [ "$status" -eq 0 ]
  [ "$output" = "8" ]
}

@test "eval: reference values and strict builtin errors as the AS runs them" {
  echo '{"sample":{"svn":"1","launch_digest":"abcde","platform_version":{"major":1,"minor":4},"debug":false}}' > "$T/in.json"
  echo '{"launch_digest":["abcde"],"svn":["1"],"major_version":1,"minimum_minor_version":2}' > "$T/rv.json"
  run "$BIN" eval --strict-builtin-errors -d "$V/attestation-service/policies/ear_default_policy_cpu.rego" \
    -i "$T/in.json" --reference-values "$T/rv.json" data.policy.trust_claims
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '.result[0].expressions[0].value | [.executables, .hardware, .configuration]')" = "[3,2,2]" ]
  # an absent id is null, as in the AS
  echo '{}' > "$T/rv.json"
  run "$BIN" eval --strict-builtin-errors -d "$V/attestation-service/policies/ear_default_policy_cpu.rego" \
    -i "$T/in.json" --reference-values "$T/rv.json" data.policy.trust_claims.executables
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '.result[0].expressions[0].value')" = "33" ]
}

@test "eval: errors carry file:line:col and exit 1" {
  printf 'package p\n\nx := [1, 2\n' > "$T/bad.rego"
  run "$BIN" eval -d "$T/bad.rego" data.p.x
  [ "$status" -eq 1 ]
  [[ "$output" =~ bad.rego:[0-9]+:[0-9]+:\  ]]
  printf 'package p\nx := 1 / input.d\n' > "$T/div.rego"
  echo '{"d":0}' > "$T/in.json"
  run "$BIN" eval --strict-builtin-errors -d "$T/div.rego" -i "$T/in.json" data.p.x
  [ "$status" -eq 1 ]
  [[ "$output" =~ div.rego:2:[0-9]+:\ eval_builtin_error ]]
  # lenient mode: undefined, success
  run "$BIN" eval -d "$T/div.rego" -i "$T/in.json" data.p.x
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c .)" = "{}" ]
}

@test "check: good files pass, every broken file is reported" {
  run "$BIN" check "$V/kbs/sample_policies/default.rego" "$V/attestation-service/policies/ear_default_policy_cpu.rego"
  [ "$status" -eq 0 ]
  printf 'package a\nx := \n' > "$T/a.rego"
  printf 'package b\ny if {\n  z == 1\n}\n' > "$T/b.rego"
  run "$BIN" check "$T/a.rego"
  [ "$status" -eq 1 ]
  [[ "$output" =~ a.rego:3:1: ]]
  run "$BIN" check "$T/b.rego"
  [ "$status" -eq 1 ]
  [[ "$output" =~ b.rego:3:3:\ rego_unsafe_var_error ]]
  # every failing rule is reported, one per line
  printf 'package c\np if q > 1\nr := count(1, 2, 3)\n' > "$T/c.rego"
  run "$BIN" check "$T/c.rego"
  [ "$status" -eq 1 ]
  [[ "$output" =~ c.rego:2:6:\ rego_unsafe_var_error ]]
  [[ "$output" =~ c.rego:3:6:\ rego_type_error ]]
}

@test "usage errors exit 2" {
  run "$BIN" eval
  [ "$status" -eq 2 ]
  run "$BIN" frobnicate
  [ "$status" -eq 2 ]
}

@test "bench: median evaluation time of a rule in prepared mode, and compile time" {
  echo '{"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"tdx":{}}}}}' > "$T/in.json"
  echo '{"plugin":"resource","resource-path":["a","b","c"]}' > "$T/data.json"
  run "$BIN" bench -d "$V/kbs/sample_policies/default.rego" -d "$T/data.json" -i "$T/in.json" --rounds 200 \
    data.policy.allow
  [ "$status" -eq 0 ]
  [[ "$output" =~ rule\ +data.policy.allow\ \(defined\) ]]
  [[ "$output" =~ eval\ +median\ [0-9]+\ ns.*over\ 200\ runs ]]
  [[ "$output" =~ compile\ +[0-9]+\ ns ]]
  run "$BIN" bench -d "$V/kbs/sample_policies/default.rego" data.policy.nope
  [ "$status" -eq 0 ]
  [[ "$output" =~ \(no\ rule\) ]]
  # an evaluation error is reported like eval's, exit 1
  printf 'package p\nx := 1 / 0\n' > "$T/e.rego"
  run "$BIN" bench --strict-builtin-errors -d "$T/e.rego" data.p.x
  [ "$status" -eq 1 ]
  [[ "$output" =~ e.rego:2:8:\ eval_builtin_error:\ div:\ divide\ by\ zero ]]
  run "$BIN" bench --rounds 0 data.p.x
  [ "$status" -eq 2 ]
}
