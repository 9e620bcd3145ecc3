// Wrapper that builds kine (an etcd API over SQLite; pure Go without cgo),
// the datastore of the e2e control plane.
module emqx-cluster-e2e/toolchain/kine

go 1.26.5

require github.com/k3s-io/kine v0.17.5
