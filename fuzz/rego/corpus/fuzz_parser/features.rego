package fuzz
import rego.v1
default allow := false
xs := [1, 2.5, "a", null, true, {"k": [1]}, {1, 2}]
allow if {
	some k, v in input
	v > 0
	not deny
	every x in [1, 2] { x < 3 }
}
deny if input.x == 2
s contains x if { x := xs[_]; is_number(x) }
o[k] := v if { some k, v in {"a": 1} }
p.q[r] := 1 if r := "z"
f(x) := y if { y := x + 1 } else := 0
c := [x | x := xs[_]]
d := {k: v | some k, v in input}
w := y if { y := f(1) with input as {"x": 3} }
r := `raw \n string` if true
