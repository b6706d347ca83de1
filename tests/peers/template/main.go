// template-oracle renders a corpus of templates with Go's text/template and the Sprig
// functions exactly as upstream's controller (v0.36.6) renders a SealedSecret's
// spec.template.data: the func map is sprig.GenericFuncMap() without env, expandenv
// and getHostByName; each template is template.New(name).Funcs(m).Parse(text) and is
// executed on a map[string]string of the decrypted values.
//
//	template-oracle record FILE   fill in every case's "go" field, rewriting FILE
//	template-oracle record -      the same from stdin to stdout
//	template-oracle check FILE    exit 0 if the recorded "go" fields are what Go computes
//	                              (FILE may be -), else print the differences and exit 1
//	template-oracle verify-certs FILE
//	                              judge certificates and keys made by another Sprig
//	                              (certs.go), whose random output the corpus cannot hold
//
// The corpus (crates/sealed-secrets/tests/template-corpus.json):
//
//	{"local": "Europe/Berlin", "data": {"key": "value"}, "data_b64": {"key": "<base64>"},
//	 "cases": [{"name": "...", "template": "...", "go": {"output": "..."}}]}
//
// "local" is the zone time.Local is set to (Sprig's date, toDate and ago read it),
// so the results do not depend on the machine's TZ.
//
// "go" is {"output": s} for UTF-8 output, {"output_b64": s} otherwise, or
// {"error": err.Error()} when parsing or executing fails (the partial output Go
// writes before an execution error is not recorded). Exit 2 on a bad corpus or
// usage. Test infrastructure for tests/e2e (tests/peers/README.md); not part of the
// product.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// Result is what Go made of one case; exactly one field is set.
type Result struct {
	Output    *string `json:"output,omitempty"`
	OutputB64 *string `json:"output_b64,omitempty"`
	Error     *string `json:"error,omitempty"`
}

// Case is one template of the corpus.
type Case struct {
	Name     string  `json:"name"`
	Template string  `json:"template"`
	Go       *Result `json:"go,omitempty"`
}

// Corpus is the file: the data every case runs on, then the cases.
type Corpus struct {
	Local   string            `json:"local,omitempty"`
	Data    map[string]string `json:"data"`
	DataB64 map[string]string `json:"data_b64,omitempty"`
	Cases   []Case            `json:"cases"`
}

// funcMap is upstream's: Sprig's generic functions minus the three that would let a
// template learn about the controller's environment.
func funcMap() template.FuncMap {
	m := sprig.GenericFuncMap()
	delete(m, "env")
	delete(m, "expandenv")
	delete(m, "getHostByName")
	return m
}

func render(m template.FuncMap, name, text string, data map[string]string) Result {
	t, err := template.New(name).Funcs(m).Parse(text)
	if err != nil {
		msg := err.Error()
		return Result{Error: &msg}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		msg := err.Error()
		return Result{Error: &msg}
	}
	if utf8.Valid(buf.Bytes()) {
		s := buf.String()
		return Result{Output: &s}
	}
	s := base64.StdEncoding.EncodeToString(buf.Bytes())
	return Result{OutputB64: &s}
}

func (c *Corpus) values() map[string]string {
	data := make(map[string]string, len(c.Data)+len(c.DataB64))
	for k, v := range c.Data {
		data[k] = v
	}
	for k, v := range c.DataB64 {
		if _, dup := data[k]; dup {
			fail("key %q is in both data and data_b64", k)
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			fail("data_b64 %q: %v", k, err)
		}
		data[k] = string(b)
	}
	return data
}

// compute returns Go's result for every case. Each case runs a few times: a case
// whose output changes between runs (random functions, the clock, map order) does not
// belong in the corpus.
func (c *Corpus) compute() []Result {
	m := funcMap()
	data := c.values()
	seen := map[string]bool{}
	results := make([]Result, len(c.Cases))
	for i, tc := range c.Cases {
		if tc.Name == "" || seen[tc.Name] {
			fail("case %d: the name %q is empty or not unique", i, tc.Name)
		}
		seen[tc.Name] = true
		results[i] = render(m, tc.Name, tc.Template, data)
		for run := 0; run < 4; run++ {
			again := render(m, tc.Name, tc.Template, data)
			if !equal(&results[i], &again) {
				fail("case %q is not deterministic: %s, then %s", tc.Name, show(&results[i]), show(&again))
			}
		}
	}
	return results
}

func equal(a, b *Result) bool {
	if a == nil || b == nil {
		return a == b
	}
	return same(a.Output, b.Output) && same(a.OutputB64, b.OutputB64) && same(a.Error, b.Error)
}

func same(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(r *Result) string {
	if r == nil {
		return "(nothing recorded)"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(r)
	return strings.TrimSuffix(buf.String(), "\n")
}

// encode is the file's stable form: two-space indents, keys in declaration order,
// no HTML escaping, a trailing newline.
func encode(c *Corpus) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		fail("encoding: %v", err)
	}
	return buf.Bytes()
}

func read(path string) *Corpus {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		fail("reading %s: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Corpus
	if err := dec.Decode(&c); err != nil {
		fail("parsing %s: %v", path, err)
	}
	return &c
}

// writeAtomically replaces path by a temporary file renamed over it.
func writeAtomically(path string, content []byte) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		fail("%v", err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		fail("writing %s: %v", path, err)
	}
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "record" && os.Args[1] != "check" && os.Args[1] != "verify-certs") {
		fmt.Fprintln(os.Stderr, "usage: template-oracle record|check FILE  (FILE may be -)\n       template-oracle verify-certs FILE")
		os.Exit(2)
	}
	mode, path := os.Args[1], os.Args[2]
	if mode == "verify-certs" {
		verifyCerts(path)
		return
	}
	corpus := read(path)
	if corpus.Local != "" {
		loc, err := time.LoadLocation(corpus.Local)
		if err != nil {
			fail("local: %v", err)
		}
		time.Local = loc
	}
	results := corpus.compute()
	switch mode {
	case "record":
		for i := range corpus.Cases {
			corpus.Cases[i].Go = &results[i]
		}
		out := encode(corpus)
		if path == "-" {
			os.Stdout.Write(out)
		} else {
			writeAtomically(path, out)
		}
	case "check":
		differ := 0
		for i, tc := range corpus.Cases {
			if !equal(tc.Go, &results[i]) {
				differ++
				fmt.Printf("%s:\n  recorded: %s\n  computed: %s\n", tc.Name, show(tc.Go), show(&results[i]))
			}
		}
		if differ > 0 {
			fmt.Printf("%d of %d cases differ from what Go computes (template-oracle record %s rewrites them)\n",
				differ, len(corpus.Cases), path)
			os.Exit(1)
		}
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "template-oracle: "+format+"\n", args...)
	os.Exit(2)
}
