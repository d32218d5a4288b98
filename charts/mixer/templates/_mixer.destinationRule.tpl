apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  host: istio-{{type}}.{{Release.Namespace}}.svc.{{Values.global.proxy.clusterDomain}}
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 15004
      tls:
        mode: ISTIO_MUTUAL
    - port:
        number: 9091
      tls:
        mode: DISABLE
    connectionPool:
      http:
        http2MaxRequests: 10000
        maxRequestsPerConnection: 10000
