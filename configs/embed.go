// Package configs holds the default configuration file and the Casbin model,
// embedded so the binary needs no files beside it.
package configs

import _ "embed"

// DefaultYAML is configs/facility.yaml: every key with its default value.
//
//go:embed facility.yaml
var DefaultYAML []byte

// CasbinModel is the authorisation model (request, policy, role and matcher definitions).
//
//go:embed casbin_model.conf
var CasbinModel string
