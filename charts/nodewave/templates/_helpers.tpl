{{/*
nodewave.name is the chart's name: the app.kubernetes.io/name label, as in
config/default.
*/}}
{{- define "nodewave.name" -}}
{{- .Chart.Name -}}
{{- end }}

{{/*
nodewave.fullname prefixes every object's name: fullnameOverride, else the
release name when it contains the chart's name, else "<release>-nodewave".
`helm install nodewave` thus names objects as config/default does.
*/}}
{{- define "nodewave.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "nodewave.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "nodewave.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/*
nodewave.resourceName is "<fullname>-<suffix>", the name config/default
gives as "nodewave-<suffix>". The prefix is cut so the whole stays within
63 characters, a valid name for any kind (a Service's included).
Call it with (dict "suffix" "controller-manager" "context" $).
*/}}
{{- define "nodewave.resourceName" -}}
{{- $room := int (sub 62 (len .suffix)) -}}
{{- printf "%s-%s" (include "nodewave.fullname" .context | trunc $room | trimSuffix "-") .suffix -}}
{{- end }}

{{/*
nodewave.serviceAccountName is the manager's ServiceAccount.
*/}}
{{- define "nodewave.serviceAccountName" -}}
{{- include "nodewave.resourceName" (dict "suffix" "controller-manager" "context" .) -}}
{{- end }}

{{/*
nodewave.jobNamespace is where the per-node upgrade Jobs run, and so where
the manager's Job Role is granted: jobNamespace, else the release namespace.
*/}}
{{- define "nodewave.jobNamespace" -}}
{{- .Values.jobNamespace | default .Release.Namespace -}}
{{- end }}

{{/*
nodewave.labels go on every object.
*/}}
{{- define "nodewave.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "nodewave.commonSelectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | trunc 63 | trimSuffix "-" | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
nodewave.commonSelectorLabels tell this release's objects apart.
*/}}
{{- define "nodewave.commonSelectorLabels" -}}
app.kubernetes.io/name: {{ include "nodewave.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
nodewave.selectorLabels select the manager's pods (Deployment, Service).
A Deployment's selector cannot change: keep these as they are.
*/}}
{{- define "nodewave.selectorLabels" -}}
{{ include "nodewave.commonSelectorLabels" . }}
control-plane: controller-manager
{{- end }}

{{/*
nodewave.image is the manager's image reference.
*/}}
{{- define "nodewave.image" -}}
{{- $image := .Values.manager.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end }}

{{/*
nodewave.managerSubject is the manager's ServiceAccount as an RBAC subject.
*/}}
{{- define "nodewave.managerSubject" -}}
- kind: ServiceAccount
  name: {{ include "nodewave.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
