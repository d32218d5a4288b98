apiVersion: {{#if (has "autoscaling/v2" Capabilities.APIVersions)}}autoscaling/v2{{else if (has "autoscaling/v2beta2" Capabilities.APIVersions)}}autoscaling/v2beta2{{else}}autoscaling/v2beta1{{/if}}
kind: HorizontalPodAutoscaler
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  labels:
    app: {{type}}
    istio: mixer
    istio-mixer-type: {{type}}
    release: {{Release.Name}}
spec:
  maxReplicas: {{cfg.autoscaleMax}}
  minReplicas: {{cfg.autoscaleMin}}
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: istio-{{type}}
  metrics:
  - type: Resource
    resource:
      name: cpu
{{#if (or (has "autoscaling/v2" Capabilities.APIVersions) (has "autoscaling/v2beta2" Capabilities.APIVersions))}}
      target:
        type: Utilization
        averageUtilization: {{cfg.cpu.targetAverageUtilization}}
{{else}}
      targetAverageUtilization: {{cfg.cpu.targetAverageUtilization}}
{{/if}}
