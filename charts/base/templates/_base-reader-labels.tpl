app: istio-reader
release: {{Release.Name}}
{{#if (semverCompare ">=1.24.0-0" Chart.AppVersion)}}
app.kubernetes.io/name: istio-reader
{{> base-istio-labels}}
{{/if}}
