{{/* The release's name prefix: "ats" for a release named ats, else RELEASE-ats; every object's name starts with it. */}}
{{- define "ats.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{ .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else -}}
{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}
{{- end -}}
{{- end }}

{{- define "ats.labels" -}}
app.kubernetes.io/name: ats
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "ats.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}

{{/*
A generated password kept across upgrades: the value given, else the one already in the release's
Secret (dict: ctx, secret, key, value), else a new random one.
*/}}
{{- define "ats.keptPassword" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if .value -}}
{{ .value }}
{{- else if and $existing (index ($existing.data | default dict) .key) -}}
{{ index $existing.data .key | b64dec }}
{{- else -}}
{{ randAlphaNum 24 }}
{{- end -}}
{{- end }}

{{/* The password of the workloads' Postgres role `ats` (not a superuser). */}}
{{- define "ats.postgresPassword" -}}
{{ include "ats.keptPassword" (dict "ctx" . "secret" (printf "%s-postgres" (include "ats.fullname" .)) "key" "password" "value" .Values.postgresql.password) }}
{{- end }}

{{/* The password of the bundled Postgres's superuser `postgres` (used by nothing but its init script and an admin). */}}
{{- define "ats.postgresSuperuserPassword" -}}
{{ include "ats.keptPassword" (dict "ctx" . "secret" (printf "%s-postgres" (include "ats.fullname" .)) "key" "superuserPassword" "value" "") }}
{{- end }}

{{/* The password of the bundled Redis's user `ats` (the operator's; traders and marketdata get users of their own). */}}
{{- define "ats.redisPassword" -}}
{{ include "ats.keptPassword" (dict "ctx" . "secret" (printf "%s-redis" (include "ats.fullname" .)) "key" "password" "value" .Values.redis.password) }}
{{- end }}

{{- define "ats.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  seccompProfile: { type: RuntimeDefault }
{{- end }}

{{- define "ats.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
{{- end }}
