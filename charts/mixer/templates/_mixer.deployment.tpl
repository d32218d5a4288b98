{{!-- One Mixer deployment. Hash: type (policy | telemetry), cfg (Values.policy | Values.telemetry). --}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  labels:
    app: istio-mixer
    istio: mixer
    istio-mixer-type: {{type}}
    release: {{Release.Name}}
spec:
{{#unless cfg.autoscaleEnabled}}
  replicas: {{cfg.replicaCount}}
{{/unless}}
  strategy:
    rollingUpdate:
      maxSurge: 100%
      maxUnavailable: 25%
  selector:
    matchLabels:
      istio: mixer
      istio-mixer-type: {{type}}
  template:
    metadata:
      labels:
        app: {{type}}
        istio: mixer
        istio-mixer-type: {{type}}
      annotations:
        sidecar.istio.io/inject: "false"
        prometheus.io/port: "15014"
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: istio-mixer-service-account
{{#if Values.global.imagePullSecrets}}
      imagePullSecrets:
{{#each Values.global.imagePullSecrets}}
      - name: {{this}}
{{/each}}
{{/if}}
      containers:
      - name: mixer
        image: "{{Values.global.hub}}/{{cfg.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        ports:
        - name: http-monitoring
          containerPort: 15014
          protocol: TCP
        - name: prometheus
          containerPort: 42422
          protocol: TCP
        args:
        - --monitoringPort=15014
        - --address
        - unix:///sock/mixer.socket
        - --log_output_level={{Values.global.logging.level}}
        - --configStoreURL=k8s://
        - --configDefaultNamespace={{Release.Namespace}}
        - --useAdapterCRDs=false
        - --useTemplateCRDs=false
        - --trace_zipkin_url=http://zipkin.{{Release.Namespace}}:9411/api/v1/spans
{{#if cfg.loadshedding}}
        - --averageLatencyThreshold
        - {{cfg.loadshedding.latencyThreshold}}
        - --loadsheddingMode
        - {{cfg.loadshedding.mode}}
{{/if}}
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
{{#each cfg.env}}
        - name: {{@key}}
          value: {{quote this}}
{{/each}}
        resources:{{nindent 10 (toYaml cfg.resources)}}
        livenessProbe:
          httpGet:
            path: /version
            port: 15014
          initialDelaySeconds: 5
          periodSeconds: 5
        volumeMounts:
        - name: uds-socket
          mountPath: /sock
        - name: {{type}}-adapter-secret
          mountPath: /var/run/secrets/istio.io/{{type}}/adapter
          readOnly: true
      # Envoy in front of Mixer: mTLS on 15004 and plaintext on 9091, both to Mixer's unix socket.
      - name: istio-proxy
        image: "{{Values.global.hub}}/{{Values.global.proxy.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        ports:
        - name: grpc-mixer
          containerPort: 9091
          protocol: TCP
        - name: grpc-mixer-mtls
          containerPort: 15004
          protocol: TCP
        - name: http-envoy-prom
          containerPort: 15090
          protocol: TCP
        args:
        - proxy
        - --domain
        - $(POD_NAMESPACE).svc.{{Values.global.proxy.clusterDomain}}
        - --serviceCluster
        - istio-{{type}}
        - --templateFile
        - /var/lib/envoy/envoy.yaml.tmpl
        - --controlPlaneAuthPolicy
        - MUTUAL_TLS
        - --proxyLogLevel={{Values.global.proxy.logLevel}}
        - --trust-domain={{Values.global.trustDomain}}
        env:
        - name: JWT_POLICY
          value: {{Values.global.jwtPolicy}}
        - name: PILOT_CERT_PROVIDER
          value: {{Values.global.pilotCertProvider}}
        - name: CA_ADDR
          value: istiod.{{Values.global.istioNamespace}}.svc:15012
        - name: POD_NAME
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
        - name: INSTANCE_IP
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: status.podIP
        - name: SERVICE_ACCOUNT
          valueFrom:
            fieldRef:
              fieldPath: spec.serviceAccountName
        resources:{{nindent 10 (toYaml Values.global.proxy.resources)}}
        volumeMounts:
        - name: envoy-config
          mountPath: /var/lib/envoy
        - name: uds-socket
          mountPath: /sock
        - name: istio-envoy
          mountPath: /etc/istio/proxy
        - name: istiod-ca-cert
          mountPath: /var/run/secrets/istio
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
        - name: istio-token
          mountPath: /var/run/secrets/tokens
          readOnly: true
{{/if}}
      volumes:
      - name: uds-socket
        emptyDir: {}
      - name: istio-envoy
        emptyDir:
          medium: Memory
      - name: {{type}}-adapter-secret
        secret:
          secretName: {{type}}-adapter-secret
          optional: true
      - name: envoy-config
        configMap:
          name: {{type}}-envoy-config
      - name: istiod-ca-cert
        configMap:
          name: istio-ca-root-cert
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
      - name: istio-token
        projected:
          sources:
          - serviceAccountToken:
              audience: istio-ca
              expirationSeconds: 43200
              path: istio-token
{{/if}}
