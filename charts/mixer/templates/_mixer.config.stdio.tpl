apiVersion: config.istio.io/v1alpha2
kind: handler
metadata:
  name: stdio
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  compiledAdapter: stdio
  params:
    outputAsJson: {{#if Values.adapters.stdio.outputAsJson}}true{{else}}false{{/if}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata:
  name: accesslog
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  compiledTemplate: logentry
  params:
    severity: '"Info"'
    timestamp: request.time
    variables:
      sourceIp: 'source.ip | ip("0.0.0.0")'
      sourceWorkload: 'source.workload.name | ""'
      destinationWorkload: 'destination.workload.name | ""'
      destinationServiceHost: 'destination.service.host | ""'
      method: 'request.method | ""'
      url: 'request.path | ""'
      protocol: 'request.scheme | context.protocol | "http"'
      responseCode: 'response.code | 0'
      responseSize: 'response.size | 0'
      requestSize: 'request.size | 0'
      latency: 'response.duration | "0ms"'
      userAgent: 'request.useragent | ""'
    monitored_resource_type: '"global"'
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata:
  name: tcpaccesslog
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  compiledTemplate: logentry
  params:
    severity: '"Info"'
    timestamp: 'context.time | timestamp("2017-01-01T00:00:00Z")'
    variables:
      connectionEvent: 'connection.event | ""'
      sourceIp: 'source.ip | ip("0.0.0.0")'
      sourceWorkload: 'source.workload.name | ""'
      destinationIp: 'destination.ip | ip("0.0.0.0")'
      destinationWorkload: 'destination.workload.name | ""'
      receivedBytes: 'connection.received.bytes | 0'
      sentBytes: 'connection.sent.bytes | 0'
      totalReceivedBytes: 'connection.received.bytes_total | 0'
      totalSentBytes: 'connection.sent.bytes_total | 0'
      connectionDuration: 'connection.duration | "0ms"'
    monitored_resource_type: '"global"'
