// Wrapper that builds the Pulumi Kubernetes provider plugin matching the npm
// package @pulumi/kubernetes 4.25.0. The provider module has no tags; this
// pseudo-version is the commit the 4.25.0 release was built from (its schema
// has the same resources as the npm package). The provider module replaces
// sdk/v4 with a local path, so it is required here at the release tag.
module emqx-cluster-e2e/toolchain/pulumi-kubernetes

go 1.24.7

require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199
	github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.25.0
)
