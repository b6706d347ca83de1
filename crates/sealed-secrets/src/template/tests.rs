use super::*;

fn values(pairs: &[(&str, &[u8])]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Zeroizing::new(v.to_vec())))
        .collect()
}

fn ok(src: &str, pairs: &[(&str, &[u8])]) -> Vec<u8> {
    render("t", src, &values(pairs))
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .to_vec()
}

fn err(src: &str, pairs: &[(&str, &[u8])]) -> String {
    match render("t", src, &values(pairs)) {
        Ok(_) => panic!("{src} rendered"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn upstream_examples() {
    assert_eq!(
        ok(r#"secret {{ index . "foo" }} !"#, &[("foo", b"bar")]),
        b"secret bar !"
    );
    assert_eq!(
        ok("{{ toJson .password }}", &[("password", br#"a"b=c"#)]),
        br#""a\"b=c""#
    );
}

#[test]
fn fields_pipelines_and_parentheses() {
    let v: &[(&str, &[u8])] = &[("user", b"admin"), ("pass", b"s3cr3t")];
    assert_eq!(ok("{{ .user }}:{{ .pass }}", v), b"admin:s3cr3t");
    assert_eq!(ok("{{ .user | upper | quote }}", v), b"\"ADMIN\"");
    assert_eq!(
        ok("{{ printf \"%s:%s\" .user .pass | b64enc }}", v),
        b"YWRtaW46czNjcjN0"
    );
    assert_eq!(ok("{{ (b64dec (b64enc .user)) }}", v), b"admin");
    assert_eq!(ok("{{ $.user }}", v), b"admin");
    assert_eq!(ok("{{ len .user }}", v), b"5");
}

#[test]
fn trim_markers_and_comments() {
    let v: &[(&str, &[u8])] = &[("a", b"x")];
    assert_eq!(ok("a  {{- .a -}}  b", v), b"axb");
    assert_eq!(ok("a {{/* note */}} b", v), b"a  b");
    assert_eq!(ok("a {{- /* note */ -}} b", v), b"ab");
    assert_eq!(ok("{{.a}}-{{ 3 }}", v), b"x-3");
}

#[test]
fn literals_and_escapes() {
    assert_eq!(
        ok(r#"{{ "a\tb\n\x41\u00e9\"" }}"#, &[]),
        "a\tb\nAé\"".as_bytes()
    );
    assert_eq!(ok("{{ `raw \\n` }}", &[]), b"raw \\n");
    assert_eq!(ok("{{ true }} {{ -4 }}", &[]), b"true -4");
}

#[test]
fn conditionals() {
    let v: &[(&str, &[u8])] = &[("on", b"yes"), ("off", b"")];
    assert_eq!(ok("{{ if .on }}A{{ else }}B{{ end }}", v), b"A");
    assert_eq!(
        ok("{{ if .off }}A{{ else if .on }}C{{ else }}B{{ end }}", v),
        b"C"
    );
    assert_eq!(ok("{{ if .missing }}A{{ else }}B{{ end }}", v), b"B");
    assert_eq!(ok("{{ with .on }}[{{ . }}]{{ end }}", v), b"[yes]");
    assert_eq!(ok("{{ with .off }}x{{ else }}none{{ end }}", v), b"none");
    assert_eq!(
        ok(
            r#"{{ if eq .on "yes" }}E{{ end }}{{ if ne .on "no" }}N{{ end }}"#,
            v
        ),
        b"EN"
    );
    assert_eq!(ok("{{ if and .on (not .off) }}T{{ end }}", v), b"T");
}

#[test]
fn sprig_string_functions() {
    let v: &[(&str, &[u8])] = &[("s", b"  Hello World  "), ("p", b"prefix-body")];
    assert_eq!(ok("{{ trim .s }}", v), b"Hello World");
    assert_eq!(ok("{{ .s | trim | lower }}", v), b"hello world");
    assert_eq!(ok(r#"{{ trimPrefix "prefix-" .p }}"#, v), b"body");
    assert_eq!(ok(r#"{{ trimSuffix "-body" .p }}"#, v), b"prefix");
    assert_eq!(ok(r#"{{ replace "-" "_" .p }}"#, v), b"prefix_body");
    assert_eq!(ok(r#"{{ .p | squote }}"#, v), b"'prefix-body'");
    assert_eq!(ok(r#"{{ trimAll "px" "xxpaxp" }}"#, v), b"a");
    assert_eq!(ok(r#"{{ "a\nb" | indent 2 }}"#, v), b"  a\n  b");
    assert_eq!(ok(r#"{{ "a" | nindent 2 }}"#, v), b"\n  a");
    assert_eq!(
        ok(r#"{{ repeat 3 "ab" }}|{{ trunc 3 .p }}"#, v),
        b"ababab|pre"
    );
    assert_eq!(
        ok(
            r#"{{ if contains "body" .p }}y{{ end }}{{ if hasPrefix "pre" .p }}y{{ end }}{{ if hasSuffix "dy" .p }}y{{ end }}"#,
            v
        ),
        b"yyy"
    );
    assert_eq!(
        ok(
            r#"{{ cat "a" "b" }}|{{ nospace "a b c" }}|{{ title "hello world" }}"#,
            v
        ),
        b"a b|abc|Hello World"
    );
    assert_eq!(
        ok("{{ sha256sum \"abc\" }}", v),
        b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        ok(r#"{{ printf "%q %d %x %%" "a" 5 "hi" }}"#, v),
        b"\"a\" 5 6869 %"
    );
}

#[test]
fn default_accepts_missing_and_empty() {
    let v: &[(&str, &[u8])] = &[("e", b""), ("k", b"v")];
    assert_eq!(ok(r#"{{ .missing | default "x" }}"#, v), b"x");
    assert_eq!(ok(r#"{{ default "x" .e }}"#, v), b"x");
    assert_eq!(ok(r#"{{ default "x" .k }}"#, v), b"v");
    assert_eq!(ok("{{ if empty .missing }}E{{ end }}", v), b"E");
}

#[test]
fn values_need_not_be_utf8() {
    let raw: &[u8] = &[0xff, 0x00, 0xfe];
    assert_eq!(ok("{{ .bin }}", &[("bin", raw)]), raw);
    assert_eq!(ok("{{ .bin | b64enc | b64dec }}", &[("bin", raw)]), raw);
}

#[test]
fn missing_keys_print_no_value_as_go_does() {
    let v: &[(&str, &[u8])] = &[("password", b"hunter2")];
    assert_eq!(ok("{{ .pasword }}", v), b"<no value>");
    assert_eq!(ok("[{{ index . \"pasword\" }}]", v), b"[]");
    assert_eq!(ok("{{ print .pasword }}", v), b"<nil>");
}

#[test]
fn errors_name_keys_and_positions_never_values() {
    let v: &[(&str, &[u8])] = &[("password", b"hunter2")];
    let cases = [
        (
            "{{ env \"HOME\" }}",
            "template: t:1:3: function \"env\" not defined",
        ),
        (
            "x\n {{ expandenv .password }}",
            "template: t:2:4: function \"expandenv\" not defined",
        ),
        (
            "{{ getHostByName \"a\" }}",
            "template: t:1:3: function \"getHostByName\" not defined",
        ),
        ("{{ .password ", "template: t:1:0: unclosed action"),
        ("{{ end }}", "template: t:1:3: unexpected {{end}}"),
        ("{{ if .password }}x", "template: t:1:18: unexpected EOF"),
        (
            "{{ .password | upper | int | upper }}",
            "template: t:1:29: executing \"t\" at <upper>: wrong type for value; expected string; got int",
        ),
        (
            "{{ range .password }}{{ end }}",
            "template: t:1:9: executing \"t\" at <.password>: range can't iterate over a string",
        ),
        (
            "{{ $x := .password }}{{ $x.y }}",
            "template: t:1:24: executing \"t\" at <$x.y>: can't evaluate field y in type string",
        ),
        (
            "{{ fail .password }}",
            "template: t:1:3: executing \"t\" at <fail .password>: error calling fail: (a message built from values, not shown)",
        ),
        (
            "{{ fail \"password must be set\" }}",
            "template: t:1:3: executing \"t\" at <fail \"password must be set\">: error calling fail: password must be set",
        ),
        (
            "{{ eq .password 1 }}",
            "template: t:1:3: executing \"t\" at <eq .password 1>: error calling eq: incompatible types for comparison: string and int",
        ),
    ];
    for (src, want) in cases {
        let got = err(src, v);
        assert_eq!(got, want, "{src}");
        assert!(!got.contains("hunter2"));
    }
}

/// A template cannot hold the controller: work, nesting and recursion are bounded.
#[test]
fn runaway_templates_are_errors() {
    for src in [
        "{{ range 100000000 }}{{ end }}",
        "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}",
        "{{ define \"t\" }}{{ template \"t\" . }}{{ end }}{{ template \"t\" . }}",
        "{{ until 1000000000 }}",
        "{{ $d := dict }}{{ $_ := set $d \"me\" $d }}{{ toJson $d }}|{{ $d }}",
    ] {
        match render("t", src, &values(&[])) {
            Err(_) => {}
            Ok(out) => assert!(out.len() < 1 << 20, "{src}"),
        }
    }
}

#[test]
fn large_values_and_deep_nesting() {
    let big = vec![b'a'; 1 << 20];
    assert_eq!(ok("{{ .big }}", &[("big", &big)]).len(), 1 << 20);
    let deep = format!(
        "{{{{ {}\"x\"{} }}}}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(err(&deep, &[]).contains("nested too deeply"));
    let deep_if = "{{ if true }}".repeat(500) + &"{{ end }}".repeat(500);
    assert!(err(&deep_if, &[]).contains("nested too deeply"));
}

/// Found by the `template` fuzz target: `repeat` with a huge count panicked
/// ("capacity overflow"), and a large one allocated gigabytes in the controller.
/// Every result is capped at 1 MiB, the size of a whole Secret, before it is built.
#[test]
fn results_over_one_mib_are_errors_not_allocations() {
    let v = &[("p", b"hunter2".as_slice())];
    for src in [
        "{{ repeat 9223372036854775807 \"ab\" }}",
        "{{ repeat 1048577 \"x\" }}",
        "{{ .p | indent 9223372036854775807 }}",
        "{{ .p | nindent 2000000 }}",
        "{{ replace \"\" (repeat 1000000 \"y\") .p }}",
        "{{ replace \"h\" (repeat 1000000 \"y\") (repeat 2 .p) }}",
        "{{ printf \"%s%s\" (repeat 1000000 \"x\") (repeat 1000000 \"x\") }}",
        "{{ cat (repeat 1000000 \"x\") (repeat 1000000 \"x\") }}",
        "{{ repeat 600000 \"x\" | b64enc | b64enc }}",
        "{{ repeat 1000000 \"x\" }}{{ repeat 1000000 \"x\" }}",
    ] {
        let e = err(src, v);
        assert!(e.contains("would exceed 1048576 bytes"), "{src}: {e}");
        assert!(!e.contains("hunter2"));
    }
    // Up to the limit is fine.
    assert_eq!(ok("{{ repeat 1048576 \"x\" }}", v).len(), 1 << 20);
    assert_eq!(ok("{{ repeat 0 .p }}", v), b"");
}

/// Go's messages quote the offending value in a few places (a regular expression,
/// `fail`, a value `range` cannot iterate); ours never do.
#[test]
fn values_never_reach_error_messages() {
    let v: &[(&str, &[u8])] = &[("password", b"hunt(er2")];
    for src in [
        "{{ regexFind .password \"x\" }}",
        "{{ mustRegexMatch .password \"x\" }}",
        "{{ fail .password }}",
        "{{ range .password }}{{ end }}",
        "{{ .password | int | upper }}",
        "{{ printf \"%s\" .password | fail }}",
        "{{ urlParse (printf \"%s://\\x7f\" .password) }}",
        "{{ dig \"k\" \"d\" .password }}",
    ] {
        let e = err(src, v);
        assert!(!e.contains("hunt"), "{src}: {e}");
    }
}

#[test]
fn a_time_format_cannot_build_more_than_a_secret_holds() {
    let layout = "January".repeat(200_000);
    let e = err(
        r#"{{ (toDate "2006" "2024").Format .layout }}"#,
        &[("layout", layout.as_bytes())],
    );
    assert!(e.contains("would exceed"), "{e}");
}
