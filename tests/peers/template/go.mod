// Go's text/template with Sprig, exactly as upstream's controller (v0.36.6) renders
// spec.template.data, for the template corpus (scripts/peers.sh builds it). Sprig is
// at the version upstream requires, and so is everything it pulls in: upstream's build
// resolves Masterminds/semver/v3 v3.4.0 and golang.org/x/crypto v0.49.0, above Sprig's
// own minimums; the go line is upstream's too.
module sealed-secrets-rs.test/peers/template

go 1.26.2

require github.com/Masterminds/sprig/v3 v3.3.0

require (
	dario.cat/mergo v1.0.1 // indirect
	github.com/Masterminds/goutils v1.1.1 // indirect
	github.com/Masterminds/semver/v3 v3.4.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/huandu/xstrings v1.5.0 // indirect
	github.com/mitchellh/copystructure v1.2.0 // indirect
	github.com/mitchellh/reflectwalk v1.0.2 // indirect
	github.com/shopspring/decimal v1.4.0 // indirect
	github.com/spf13/cast v1.7.0 // indirect
	golang.org/x/crypto v0.49.0 // indirect
)
