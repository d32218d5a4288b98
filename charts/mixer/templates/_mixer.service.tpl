apiVersion: v1
kind: Service
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  annotations:
    networking.istio.io/exportTo: "*"
  labels:
    app: mixer
    istio: mixer
    release: {{Release.Name}}
spec:
  ports:
  - name: grpc-mixer
    port: 9091
    protocol: TCP
  - name: grpc-mixer-mtls
    port: 15004
    protocol: TCP
  - name: http-monitoring
    port: 15014
    protocol: TCP
  - name: prometheus
    port: 42422
    protocol: TCP
  selector:
    istio: mixer
    istio-mixer-type: {{type}}
