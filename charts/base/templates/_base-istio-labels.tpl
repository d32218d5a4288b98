app.kubernetes.io/instance: {{Release.Name}}
app.kubernetes.io/part-of: istio
app.kubernetes.io/version: {{quote Chart.AppVersion}}
helm.sh/chart: {{Chart.Name}}-{{Chart.Version}}
