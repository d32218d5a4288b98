{{!-- PodDisruptionBudget and HorizontalPodAutoscaler of one Mixer type. Hash: type, cfg. --}}
{{#if Values.global.defaultPodDisruptionBudget.enabled}}
apiVersion: {{#if (has "policy/v1" Capabilities.APIVersions)}}policy/v1{{else}}policy/v1beta1{{/if}}
kind: PodDisruptionBudget
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  labels:
    app: {{type}}
    istio: mixer
    istio-mixer-type: {{type}}
    release: {{Release.Name}}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      istio: mixer
      istio-mixer-type: {{type}}
{{/if}}
{{#if (and cfg.autoscaleEnabled cfg.autoscaleMin cfg.autoscaleMax)}}
---
{{> mixer.scaling.hpa}}
{{/if}}
