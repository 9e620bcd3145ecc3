// Wrapper that builds kube-apiserver, kube-controller-manager, kube-scheduler
// and kubectl from the k8s.io/kubernetes module. k8s.io/kubernetes requires
// its staging modules (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and
// replaces them with local paths, which do not exist in the module. The
// matching `replace k8s.io/<name> => k8s.io/<name> v0.N.P` lines are added
// by scripts/e2e-toolchain.sh from the upstream go.mod of this exact version.
module emqx-cluster-e2e/toolchain/kubernetes

go 1.25.0

require k8s.io/kubernetes v1.35.4
