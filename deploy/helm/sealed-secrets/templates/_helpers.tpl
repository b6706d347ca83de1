{{/* Names, labels and the controller's flags, shared by every template. */}}

{{- define "sealed-secrets.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Not derived from the release name (unlike Bitnami's chart): kubeseal looks for
     the Service "sealed-secrets-controller" by default. */}}
{{- define "sealed-secrets.fullname" -}}
{{- default "sealed-secrets-controller" .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{- define "sealed-secrets.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sealed-secrets.labels" -}}
{{ include "sealed-secrets.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sealed-secrets
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "sealed-secrets.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "sealed-secrets.annotations" -}}
{{- with .Values.commonAnnotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{- define "sealed-secrets.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealed-secrets.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sealed-secrets.clusterRoleName" -}}
{{- default (printf "%s-unsealer" (include "sealed-secrets.fullname" .)) .Values.rbac.clusterRoleName -}}
{{- end -}}

{{- define "sealed-secrets.namespacedRoleName" -}}
{{- default (printf "%s-unsealer" (include "sealed-secrets.fullname" .)) .Values.rbac.namespacedRolesName -}}
{{- end -}}

{{- define "sealed-secrets.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository -}}{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion (toString .Values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces the controller watches besides its own: deduplicated, own one dropped. */}}
{{- define "sealed-secrets.additionalNamespaces" -}}
{{- $own := include "sealed-secrets.namespace" . -}}
{{- $out := list -}}
{{- range .Values.additionalNamespaces -}}
{{- if and (ne . $own) (not (has . $out)) -}}{{- $out = append $out . -}}{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* `k=v,k2=v2` for --privatekey-annotations / --privatekey-labels; empty values fail. */}}
{{- define "sealed-secrets.kvList" -}}
{{- $items := list -}}
{{- range $k, $v := .map -}}
{{- if not (and (kindIs "string" $v) $v) -}}
{{- fail (printf "%s.%s must be a non-empty string (it becomes %s=<value>)" $.what $k $k) -}}
{{- end -}}
{{- $items = append $items (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}

{{/* Refuse value combinations the controller or the RBAC cannot honour, with the fix. */}}
{{- define "sealed-secrets.validate" -}}
{{- if hasKey .Values "replicaCount" -}}
{{- fail "replicaCount is now called replicas" -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicas > 1 needs leaderElection.enabled=true: without it every replica would unseal and renew keys" -}}
{{- end -}}
{{- if and .Values.rbac.clusterRole .Values.rbac.namespacedRoles -}}
{{- fail "rbac.clusterRole and rbac.namespacedRoles are exclusive: for a namespaced install set rbac.clusterRole=false" -}}
{{- end -}}
{{- if not (has (toString .Values.logFormat) (list "text" "json")) -}}
{{- fail (printf "logFormat must be text or json, not %q" (toString .Values.logFormat)) -}}
{{- end -}}
{{- if not (has (upper (toString .Values.logLevel)) (list "DEBUG" "INFO" "WARN" "ERROR")) -}}
{{- fail (printf "logLevel must be DEBUG, INFO, WARN or ERROR, not %q" (toString .Values.logLevel)) -}}
{{- end -}}
{{- if and .Values.networkPolicy.enabled .Values.networkPolicy.egress.enabled (not .Values.networkPolicy.egress.kubeapiCidr) -}}
{{- fail "networkPolicy.egress.enabled needs networkPolicy.egress.kubeapiCidr (the API server address, e.g. 10.0.0.1/32)" -}}
{{- end -}}
{{- end -}}

{{/* The controller's command line as a JSON list (toYaml quotes each flag as needed).
     Booleans are always passed as --flag=<value> so that false really switches a
     default-true flag off. */}}
{{- define "sealed-secrets.args" -}}
{{- $v := .Values -}}
{{- $a := list (printf "--key-prefix=%s" $v.secretName) (printf "--key-renew-period=%v" $v.keyrenewperiod) -}}
{{- with $v.keyttl }}{{ $a = append $a (printf "--key-ttl=%v" .) }}{{ end -}}
{{- with $v.keycutofftime }}{{ $a = append $a (printf "--key-cutoff-time=%v" .) }}{{ end -}}
{{- with $v.keysize }}{{ $a = append $a (printf "--key-size=%v" .) }}{{ end -}}
{{- with $v.mycn }}{{ $a = append $a (printf "--my-cn=%v" .) }}{{ end -}}
{{- with $v.keyOrderPriority }}{{ $a = append $a (printf "--key-order-priority=%v" .) }}{{ end -}}
{{- $a = append $a (printf "--update-status=%v" $v.updateStatus) -}}
{{- $a = append $a (printf "--skip-recreate=%v" $v.skipRecreate) -}}
{{- $a = append $a (printf "--old-gc-behavior=%v" $v.oldGcBehavior) -}}
{{- $a = append $a (printf "--watch-for-secrets=%v" $v.watchForSecrets) -}}
{{- with $v.rateLimit }}{{ $a = append $a (printf "--rate-limit=%v" .) }}{{ end -}}
{{- with $v.rateLimitBurst }}{{ $a = append $a (printf "--rate-limit-burst=%v" .) }}{{ end -}}
{{- with $v.maxRetries }}{{ $a = append $a (printf "--max-unseal-retries=%v" .) }}{{ end -}}
{{- with $v.kubeClientQPS }}{{ $a = append $a (printf "--kubeclient-qps=%v" .) }}{{ end -}}
{{- with $v.kubeClientBurst }}{{ $a = append $a (printf "--kubeclient-burst=%v" .) }}{{ end -}}
{{- with $v.labelSelector }}{{ $a = append $a (printf "--label-selector=%v" .) }}{{ end -}}
{{- if $v.rbac.namespacedRoles }}{{ $a = append $a "--all-namespaces=false" }}{{ end -}}
{{- with include "sealed-secrets.additionalNamespaces" . }}{{ $a = append $a (printf "--additional-namespaces=%s" .) }}{{ end -}}
{{- with include "sealed-secrets.kvList" (dict "map" $v.privateKeyAnnotations "what" "privateKeyAnnotations") }}{{ $a = append $a (printf "--privatekey-annotations=%s" .) }}{{ end -}}
{{- with include "sealed-secrets.kvList" (dict "map" $v.privateKeyLabels "what" "privateKeyLabels") }}{{ $a = append $a (printf "--privatekey-labels=%s" .) }}{{ end -}}
{{- $a = append $a (printf "--log-info-stdout=%v" $v.logInfoStdout) -}}
{{- $a = append $a (printf "--log-level=%s" (upper $v.logLevel)) -}}
{{- $a = append $a (printf "--log-format=%s" $v.logFormat) -}}
{{- $a = append $a (printf "--listen-addr=:%v" $v.containerPorts.http) -}}
{{- $a = append $a (printf "--listen-metrics-addr=:%v" $v.containerPorts.metrics) -}}
{{- if $v.leaderElection.enabled -}}
{{- $a = append $a "--leader-elect=true" -}}
{{- $a = append $a (printf "--leader-elect-lease-name=%s" (include "sealed-secrets.leaseName" .)) -}}
{{- $a = append $a (printf "--leader-elect-lease-duration=%v" $v.leaderElection.leaseDuration) -}}
{{- $a = append $a (printf "--leader-elect-renew-deadline=%v" $v.leaderElection.renewDeadline) -}}
{{- $a = append $a (printf "--leader-elect-retry-period=%v" $v.leaderElection.retryPeriod) -}}
{{- end -}}
{{- range $v.extraArgs }}{{ $a = append $a (toString .) }}{{ end -}}
{{- toJson $a -}}
{{- end -}}

{{/* The leader-election Lease: one per release, in the controller's namespace. */}}
{{- define "sealed-secrets.leaseName" -}}
{{- default (include "sealed-secrets.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}
