apiVersion: config.istio.io/v1alpha2
kind: handler
metadata:
  name: prometheus
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  compiledAdapter: prometheus
  params:
    metricsExpirationPolicy:
      metricsExpiryDuration: {{quote Values.adapters.prometheus.metricsExpiryDuration}}
    metrics:
    - name: requests_total
      instance_name: requestcount.instance.{{Release.Namespace}}
      kind: COUNTER
      label_names:
      {{> mixer.labelNames}}
    - name: request_duration_seconds
      instance_name: requestduration.instance.{{Release.Namespace}}
      kind: DISTRIBUTION
      label_names:
      {{> mixer.labelNames}}
      buckets:
        explicit_buckets:
          bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    - name: request_bytes
      instance_name: requestsize.instance.{{Release.Namespace}}
      kind: DISTRIBUTION
      label_names:
      {{> mixer.labelNames}}
      buckets:
        exponentialBuckets:
          numFiniteBuckets: 8
          scale: 1
          growthFactor: 10
    - name: response_bytes
      instance_name: responsesize.instance.{{Release.Namespace}}
      kind: DISTRIBUTION
      label_names:
      {{> mixer.labelNames}}
      buckets:
        exponentialBuckets:
          numFiniteBuckets: 8
          scale: 1
          growthFactor: 10
    - name: tcp_sent_bytes_total
      instance_name: tcpbytesent.instance.{{Release.Namespace}}
      kind: COUNTER
      label_names:
      {{> mixer.labelNames tcp=true}}
    - name: tcp_received_bytes_total
      instance_name: tcpbytereceived.instance.{{Release.Namespace}}
      kind: COUNTER
      label_names:
      {{> mixer.labelNames tcp=true}}
