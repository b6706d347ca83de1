// kstatus prints what sigs.k8s.io/cli-utils kstatus (the library Flux's health checks
// use) computes for one Kubernetes object, read as JSON or YAML from stdin:
//
//	<Status>\t<message>
//
// Status is one of InProgress, Failed, Current, Terminating, NotFound, Unknown. Exit
// 1 if the object cannot be read or kstatus reports an error. Test infrastructure for
// tests/e2e (tests/peers/README.md); not part of the product.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		fail("parsing the object: %v", err)
	}
	// apimachinery's JSON reader keeps integers as int64, as unstructured expects.
	var object map[string]interface{}
	if err := utiljson.Unmarshal(jsonData, &object); err != nil {
		fail("parsing the object: %v", err)
	}
	if object == nil {
		fail("no object on stdin")
	}
	result, err := status.Compute(&unstructured.Unstructured{Object: object})
	if err != nil {
		fail("kstatus: %v", err)
	}
	fmt.Printf("%s\t%s\n", result.Status, result.Message)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kstatus: "+format+"\n", args...)
	os.Exit(1)
}
