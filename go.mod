module facility

go 1.26
