// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider
// from the provider module, with the schema and Terraform mapping that the
// module commits next to its own command (that command embeds files that are
// generated only at release time, so it cannot be built from the module).
package main

import (
	_ "embed"
	"encoding/json"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

// Copied from the provider module by scripts/e2e-toolchain.sh before the build.
//
//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, withVersion(schema, version.Version), terraformMapping)
}

// withVersion sets the schema's version as the release build does.
func withVersion(raw []byte, v string) []byte {
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &spec); err != nil {
		panic(err)
	}
	quoted, _ := json.Marshal(v)
	spec["version"] = quoted
	out, err := json.Marshal(spec)
	if err != nil {
		panic(err)
	}
	return out
}
