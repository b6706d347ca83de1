//go:build tools

// The main packages this module builds; the blank imports keep `go mod tidy` from
// dropping their requirements.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
