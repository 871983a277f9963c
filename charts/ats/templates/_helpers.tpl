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

{{- define "ats.postgresPassword" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-postgres" (include "ats.fullname" .)) -}}
{{- if .Values.postgresql.password -}}
{{ .Values.postgresql.password }}
{{- else if $existing -}}
{{ index $existing.data "password" | b64dec }}
{{- else -}}
{{ randAlphaNum 24 }}
{{- end -}}
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
