{{/* Rules for unsealing in the namespaces the controller watches. Every rule is one
     API call the controller makes; README.md ("RBAC") says why each exists. */}}
{{- define "sealed-secrets.unsealerRules" -}}
# Watch SealedSecrets: the objects to unseal.
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets"]
  verbs: ["get", "list", "watch"]
{{- if .Values.updateStatus }}
# Write status.conditions (Synced) and observedGeneration (--update-status).
- apiGroups: ["bitnami.com"]
  resources: ["sealedsecrets/status"]
  verbs: ["update"]
{{- end }}
# Create and update the unsealed Secrets, and watch them to restore edited or
# deleted ones. delete only with --old-gc-behavior (owner references do it otherwise).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update"{{ if .Values.oldGcBehavior }}, "delete"{{ end }}]
# Events on SealedSecrets (Unsealed, ErrUnsealFailed, ErrUpdateFailed), both event APIs.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
