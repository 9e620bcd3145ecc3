// Wrapper that builds the Pulumi CLI. pkg/v3 replaces sdk/v3 with a local
// path, so it cannot be built with `go install`; requiring both modules at the
// same version here is the equivalent. Its second replace is carried over.
module emqx-cluster-e2e/toolchain/pulumi

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v3.248.0
	github.com/pulumi/pulumi/sdk/v3 v3.248.0
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
