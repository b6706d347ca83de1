{{/* Rules for unsealing in the namespaces the controller watches. Every rule is one
     API call the controller makes (controller/README.md, "RBAC"); the chart README
     ("RBAC") says why each exists. */}}
{{- define "sealed-secrets.unsealerRules" -}}
# Watch SealedSecrets: the objects to unseal.
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets"]
  verbs: ["get", "list", "watch"]
{{- if .Values.updateStatus }}
# Write status.conditions (Synced, Reconciling, Stalled) and observedGeneration
# (--update-status): by server-side apply (patch); update where patch is refused.
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets/status"]
  verbs: ["update", "patch"]
{{- end }}
# Create and update the unsealed Secrets. list/watch: restore edited or deleted ones
# (not with --skip-recreate, which reads each Secret with a GET instead). delete: only
# with --old-gc-behavior (owner references delete them otherwise).
{{- $verbs := list "get" }}
{{- if not .Values.skipRecreate }}{{ $verbs = concat $verbs (list "list" "watch") }}{{ end }}
{{- $verbs = concat $verbs (list "create" "update") }}
{{- if .Values.oldGcBehavior }}{{ $verbs = append $verbs "delete" }}{{ end }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: [{{ range $i, $v := $verbs }}{{ if $i }}, {{ end }}{{ quote $v }}{{ end }}]
# Events on SealedSecrets (Unsealed, ErrUnsealFailed, ErrUpdateFailed), core/v1 as
# upstream; patch: a repeat raises the count of the identical recent Event.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
