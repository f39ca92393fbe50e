{{/*
Names, labels, images and the store settings shared by the templates.
*/}}

{{- define "rtrec.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; resource names append -redis, -retrain, … to it. */}}
{{- define "rtrec.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rtrec.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rtrec.labels" -}}
helm.sh/chart: {{ include "rtrec.chart" . }}
app.kubernetes.io/name: {{ include "rtrec.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rtrec
{{- end }}

{{/* Selector of the API pods (stable across upgrades: never add to it). */}}
{{- define "rtrec.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rtrec.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end }}

{{- define "rtrec.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "rtrec.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "rtrec.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rtrec.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "rtrec.sparkServiceAccountName" -}}
{{- printf "%s-spark" (include "rtrec.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The rtrec image: repository:tag or repository@digest. */}}
{{- define "rtrec.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Image of the retrain pod: retrain.image, else the API image (its -spark tag for the Spark engine). */}}
{{- define "rtrec.retrainImage" -}}
{{- $repo := default .Values.image.repository .Values.retrain.image.repository }}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if eq .Values.retrain.train.engine "spark" }}{{ $tag = printf "%s-spark" $tag }}{{ end }}
{{- printf "%s:%s" $repo (default $tag .Values.retrain.image.tag) }}
{{- end }}

{{- define "rtrec.secretName" -}}
{{- default (include "rtrec.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "rtrec.redisHost" -}}
{{- printf "%s-redis" (include "rtrec.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* True ("true") when the store URL carries a password read from the Secret. */}}
{{- define "rtrec.storeHasPassword" -}}
{{- if eq .Values.store.mode "bundled" }}true
{{- else if or .Values.store.external.password .Values.store.external.passwordFromExistingSecret }}true
{{- end }}
{{- end }}

{{/*
RTREC_STORE as a container env value. The password is never written here: it is the reference
$(RTREC_STORE_PASSWORD), which the kubelet expands from the Secret-backed variable defined just
before it (see rtrec.storeEnv).
*/}}
{{- define "rtrec.storeUrl" -}}
{{- $auth := "" }}
{{- if include "rtrec.storeHasPassword" . }}
{{- $user := ternary "" .Values.store.external.username (eq .Values.store.mode "bundled") }}
{{- $auth = printf "%s:$(RTREC_STORE_PASSWORD)@" $user }}
{{- end }}
{{- $query := "" }}
{{- if .Values.store.keyPrefix }}{{ $query = printf "?prefix=%s" .Values.store.keyPrefix }}{{ end }}
{{- if eq .Values.store.mode "bundled" }}
{{- printf "redis://%s%s:%d/0%s" $auth (include "rtrec.redisHost" .) (int .Values.redis.port) $query }}
{{- else if eq .Values.store.mode "external" }}
{{- $url := required "store.external.url is required with store.mode external (redis://host:6379/0 or redis+cluster://h1:6379,h2:6379)" .Values.store.external.url }}
{{- if contains "@" $url }}
{{- fail "store.external.url must not hold credentials: put the password in store.external.password or auth.existingSecret" }}
{{- end }}
{{- if not (regexMatch "^(redis|rediss|redis\\+cluster)://" $url) }}
{{- fail "store.external.url must start with redis://, rediss:// or redis+cluster:// (an lmdb:// store cannot be shared by several pods)" }}
{{- end }}
{{- if and .Values.store.keyPrefix (contains "?" $url) }}
{{- fail "set the key prefix either in store.external.url (?prefix=) or in store.keyPrefix, not both" }}
{{- end }}
{{- $parts := regexSplit "://" $url 2 }}
{{- printf "%s://%s%s%s" (index $parts 0) $auth (index $parts 1) $query }}
{{- else }}
{{- fail (printf "store.mode must be bundled or external, got %q" .Values.store.mode) }}
{{- end }}
{{- end }}

{{/* Env entries that give a container the store: the password from the Secret, then the URL. */}}
{{- define "rtrec.storeEnv" -}}
{{- if include "rtrec.storeHasPassword" . }}
- name: RTREC_STORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "rtrec.secretName" . }}
      key: {{ .Values.auth.redisPasswordKey }}
{{- end }}
- name: RTREC_STORE
  value: {{ include "rtrec.storeUrl" . | quote }}
{{- end }}

{{/* Mounts and volumes every rtrec container needs with a read-only root filesystem. */}}
{{- define "rtrec.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{/*
A retrain container that talks to the store (publish, prune), minus its name. Takes a dict: root
(the chart context), image, args, resources, mounts.
*/}}
{{- define "rtrec.retrainStoreContainer" -}}
{{- $root := .root }}
image: {{ .image | quote }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
args:
  {{- toYaml .args | nindent 2 }}
env:
  - name: RTREC_NO_PROGRESS
    value: "1"
  {{- include "rtrec.storeEnv" $root | trim | nindent 2 }}
  {{- with $root.Values.retrain.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
resources:
  {{- toYaml .resources | nindent 2 }}
securityContext:
  {{- toYaml $root.Values.securityContext | nindent 2 }}
volumeMounts:
  {{- toYaml .mounts | nindent 2 }}
{{- end }}
