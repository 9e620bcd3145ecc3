// Wrapper that builds the Pulumi YAML language host (pulumi-language-yaml),
// which the CLI starts for a `runtime: yaml` project. The module resolves
// pulumi pkg/v3 and sdk/v3 at the versions its release was built with,
// separate from the CLI's.
module emqx-cluster-e2e/toolchain/pulumi-yaml

go 1.24.7

require github.com/pulumi/pulumi-yaml v1.25.0
