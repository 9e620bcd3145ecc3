// Wrapper that builds the KWOK controller, which fakes Nodes and marks the
// Pods scheduled onto them Running and Ready.
module emqx-cluster-e2e/toolchain/kwok

go 1.26.0

require sigs.k8s.io/kwok v0.8.0
