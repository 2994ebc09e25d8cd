package p
r := [1, {1} | {2}]
s := [x | x = input.y[_]]; 
t if { c := [x | x = input.y[_]]; x = 2 }
u := {1,2} & {2} == {2}
