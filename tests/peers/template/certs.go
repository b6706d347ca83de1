package main

// template-oracle verify-certs FILE: Go's judgement of certificates and keys another
// implementation of Sprig's genCA, genSelfSignedCert, genSignedCert (and their WithKey
// forms) and genPrivateKey made. Such output is random, so the corpus cannot hold
// it; instead, for each item of FILE
//
//	{"items": [{"name": "...", "kind": "ca|self-signed|signed|key", "cn": "...",
//	            "ips": ["..."], "dns": ["..."], "days": 30,
//	            "cert": "PEM", "key": "PEM", "ca": {"Cert": "PEM", "Key": "PEM"}}]}
//
// it checks that Go's x509 parses the certificate and tls.X509KeyPair pairs it with
// the key; that Sprig itself, given the same key (and CA), makes a certificate with
// the same subject, issuer, validity length, key usages, basic constraints, names,
// key identifiers, extension set and signature algorithm; that a signed certificate
// verifies against its CA, and that a certificate Sprig signs with that CA does too;
// and that the key is in the PEM form Sprig writes for its type. A "key" item checks
// only the key form, and that Sprig can make a certificate with it. Exit 0 if every
// item passes, 1 listing the failures, 2 on a bad file.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/template"
	"time"
)

// CertItem is one output to judge.
type CertItem struct {
	Name string        `json:"name"`
	Kind string        `json:"kind"`
	CN   string        `json:"cn"`
	IPs  []interface{} `json:"ips"`
	DNS  []interface{} `json:"dns"`
	Days int           `json:"days"`
	Cert string        `json:"cert"`
	Key  string        `json:"key"`
	CA   *Pair         `json:"ca,omitempty"`
}

// Pair is Sprig's certificate struct.
type Pair struct {
	Cert string
	Key  string
}

// sprigCall renders one Sprig function call over dot and returns its JSON result.
func sprigCall(text string, dot map[string]interface{}) (Pair, error) {
	t, err := template.New("x").Funcs(funcMap()).Parse("{{ " + text + " | toJson }}")
	if err != nil {
		return Pair{}, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, dot); err != nil {
		return Pair{}, err
	}
	var p Pair
	err = json.Unmarshal(buf.Bytes(), &p)
	return p, err
}

func parseCert(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no CERTIFICATE PEM block")
	}
	if rest := strings.TrimPrefix(text, string(pem.EncodeToMemory(block))); rest != "" {
		return nil, fmt.Errorf("the PEM is not exactly as Go's pem.Encode writes it")
	}
	return x509.ParseCertificate(block.Bytes)
}

// shape is what must match between Sprig's certificate and the one judged.
func shape(c *x509.Certificate) string {
	var exts []string
	for _, e := range c.Extensions {
		exts = append(exts, fmt.Sprintf("%v(critical=%v)", e.Id, e.Critical))
	}
	sort.Strings(exts)
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, fmt.Sprintf("%s/%d", ip, len(ip)))
	}
	return strings.Join([]string{
		fmt.Sprintf("version=%d", c.Version),
		fmt.Sprintf("subject=%x", c.RawSubject),
		fmt.Sprintf("issuer=%x", c.RawIssuer),
		fmt.Sprintf("validity=%v", c.NotAfter.Sub(c.NotBefore)),
		fmt.Sprintf("keyUsage=%d", c.KeyUsage),
		fmt.Sprintf("extKeyUsage=%v", c.ExtKeyUsage),
		fmt.Sprintf("basicConstraints=%v ca=%v maxPathLen=%d zero=%v", c.BasicConstraintsValid, c.IsCA, c.MaxPathLen, c.MaxPathLenZero),
		fmt.Sprintf("dns=%q", c.DNSNames),
		fmt.Sprintf("ips=%v", ips),
		fmt.Sprintf("subjectKeyId=%x", c.SubjectKeyId),
		fmt.Sprintf("authorityKeyId=%x", c.AuthorityKeyId),
		fmt.Sprintf("extensions=%v", exts),
		fmt.Sprintf("signature=%v", c.SignatureAlgorithm),
		fmt.Sprintf("publicKey=%v", c.PublicKeyAlgorithm),
		fmt.Sprintf("serialBits<=128:%v", c.SerialNumber.Sign() >= 0 && c.SerialNumber.BitLen() <= 128),
	}, "\n  ")
}

func verifyChain(leaf *x509.Certificate, caPEM string) error {
	ca, err := parseCert(caPEM)
	if err != nil {
		return fmt.Errorf("the CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: leaf.NotBefore.Add(time.Second),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}

func judge(it CertItem) error {
	dot := map[string]interface{}{"cn": it.CN, "ips": it.IPs, "dns": it.DNS, "days": it.Days, "key": it.Key}
	if it.CA != nil {
		dot["ca"] = map[string]interface{}{"Cert": it.CA.Cert, "Key": it.CA.Key}
	}
	// The key: Sprig reads it and writes it back unchanged.
	again, err := sprigCall(`genSelfSignedCertWithKey "k" nil nil 1 .key`, dot)
	if err != nil {
		return fmt.Errorf("Sprig cannot use the key: %v", err)
	}
	if again.Key != it.Key {
		return fmt.Errorf("the key is not in the PEM form Sprig writes for it:\n%s\nSprig: %s", it.Key, again.Key)
	}
	if it.Kind == "key" {
		return nil
	}
	cert, err := parseCert(it.Cert)
	if err != nil {
		return fmt.Errorf("the certificate: %v", err)
	}
	if _, err := tls.X509KeyPair([]byte(it.Cert), []byte(it.Key)); err != nil {
		return fmt.Errorf("the certificate and key do not pair: %v", err)
	}
	var call string
	switch it.Kind {
	case "ca":
		call = `genCAWithKey .cn .days .key`
	case "self-signed":
		call = `genSelfSignedCertWithKey .cn .ips .dns .days .key`
	case "signed":
		if it.CA == nil {
			return fmt.Errorf("a signed item needs its ca")
		}
		call = `genSignedCertWithKey .cn .ips .dns .days (buildCustomCert (b64enc .ca.Cert) (b64enc .ca.Key)) .key`
		if err := verifyChain(cert, it.CA.Cert); err != nil {
			return fmt.Errorf("does not verify against its CA: %v", err)
		}
	default:
		return fmt.Errorf("unknown kind %q", it.Kind)
	}
	ref, err := sprigCall(call, dot)
	if err != nil {
		return fmt.Errorf("Sprig's own: %v", err)
	}
	want, err := parseCert(ref.Cert)
	if err != nil {
		return fmt.Errorf("Sprig's own: %v", err)
	}
	if got, want := shape(cert), shape(want); got != want {
		return fmt.Errorf("differs from Sprig's:\n  %s\nSprig's:\n  %s", got, want)
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, want.RawSubjectPublicKeyInfo) {
		return fmt.Errorf("the public key is not the key's")
	}
	if it.Kind == "ca" {
		// Sprig can sign with the CA as we made it, and Go verifies the result.
		dot["ca"] = map[string]interface{}{"Cert": it.Cert, "Key": it.Key}
		leaf, err := sprigCall(`genSignedCert "leaf.example" nil (list "leaf.example") 1 (buildCustomCert (b64enc .ca.Cert) (b64enc .ca.Key))`, dot)
		if err != nil {
			return fmt.Errorf("Sprig cannot sign with this CA: %v", err)
		}
		lc, err := parseCert(leaf.Cert)
		if err != nil {
			return err
		}
		if err := verifyChain(lc, it.Cert); err != nil {
			return fmt.Errorf("what Sprig signs with this CA does not verify: %v", err)
		}
	}
	return nil
}

func verifyCerts(path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		fail("reading %s: %v", path, err)
	}
	var file struct {
		Items []CertItem `json:"items"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		fail("parsing %s: %v", path, err)
	}
	if len(file.Items) == 0 {
		fail("%s holds no items", path)
	}
	failed := 0
	for _, it := range file.Items {
		if err := judge(it); err != nil {
			failed++
			fmt.Printf("%s: %v\n", it.Name, err)
		}
	}
	if failed > 0 {
		fmt.Printf("%d of %d items fail\n", failed, len(file.Items))
		os.Exit(1)
	}
	fmt.Printf("%d items pass\n", len(file.Items))
}
