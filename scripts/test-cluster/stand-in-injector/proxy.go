package main

// proxy.go: the stand-in for istiod's webhook server, behind Service-backed webhooks.
//
// Why it exists: kwok "runs" istiod pods that serve nothing, so a webhook configuration that names a
// Service (as Istio's charts do: istiod, istiod-REV, istio-sidecar-injector) can never be called on the
// test cluster. start.sh starts kube-apiserver with HTTPS_PROXY pointing at this mode, and Go clients send
// a webhook call for a Service through the proxy as `CONNECT name.namespace.svc:port`. This mode plays
// the pods behind that Service:
//
//   - It answers only while the Service has a ready endpoint, as a real call would need; otherwise it
//     refuses the CONNECT, and the API server applies the webhook's failurePolicy.
//   - It terminates TLS with a certificate for the Service's host name signed by the test CA (start.sh
//     makes kube-apiserver trust that CA through SSL_CERT_FILE, standing in for the caBundle istiod
//     patches into its webhooks at run time).
//   - A path under /inject gets the injection patch (inject.go) for the revision and proxy version of
//     the pods behind the Service: their istio.io/rev label (else "default") and their image's tag with
//     the image name replaced by proxyv2. Anything else (validation) is allowed unchanged.
//
// It is not Istio: it injects nothing that runs and validates nothing.

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// proxyOptions are the flags of the proxy mode.
type proxyOptions struct {
	Listen     string // plain-HTTP proxy address, e.g. 127.0.0.1:0
	AddrFile   string // where to write the chosen address
	CACert     string // test CA certificate (PEM): signs the per-Service certificates
	CAKey      string // its key (PEM)
	APIServer  string // https://127.0.0.1:PORT, to look up Services, Endpoints and pods
	ClientCert string // client certificate for the API server (PEM)
	ClientKey  string // its key
}

// apiClient reads the few objects the proxy needs from the API server.
type apiClient struct {
	base   string
	client *http.Client
}

func (c *apiClient) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.Unmarshal(body, out)
}

// target is the Service a CONNECT names, and what its pods say about the injector they play.
type target struct {
	Namespace, Service string
	Params             Params
}

// resolve checks that the Service has a ready endpoint and reads the revision and proxy image of the
// pods behind it.
func (c *apiClient) resolve(ctx context.Context, namespace, service string) (target, error) {
	t := target{Namespace: namespace, Service: service}
	var endpoints struct {
		Subsets []struct {
			Addresses []json.RawMessage `json:"addresses"`
		} `json:"subsets"`
	}
	base := "/api/v1/namespaces/" + url.PathEscape(namespace)
	if err := c.get(ctx, base+"/endpoints/"+url.PathEscape(service), &endpoints); err != nil {
		return t, err
	}
	ready := 0
	for _, s := range endpoints.Subsets {
		ready += len(s.Addresses)
	}
	if ready == 0 {
		return t, fmt.Errorf("service %s/%s has no ready endpoints", namespace, service)
	}
	var svc struct {
		Spec struct {
			Selector map[string]string `json:"selector"`
		} `json:"spec"`
	}
	if err := c.get(ctx, base+"/services/"+url.PathEscape(service), &svc); err != nil {
		return t, err
	}
	keys := make([]string, 0, len(svc.Spec.Selector))
	for k := range svc.Spec.Selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	terms := make([]string, 0, len(keys))
	for _, k := range keys {
		terms = append(terms, k+"="+svc.Spec.Selector[k])
	}
	var pods struct {
		Items []struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"items"`
	}
	query := "?labelSelector=" + url.QueryEscape(strings.Join(terms, ","))
	if err := c.get(ctx, base+"/pods"+query, &pods); err != nil {
		return t, err
	}
	if len(pods.Items) == 0 || len(pods.Items[0].Spec.Containers) == 0 {
		return t, fmt.Errorf("service %s/%s selects no pods", namespace, service)
	}
	first := pods.Items[0]
	revision := first.Metadata.Labels[labelRev]
	if revision == "" {
		revision = "default"
	}
	image, tag := proxyImage(first.Spec.Containers[0].Image)
	t.Params = Params{Revision: revision, Image: image, Record: recordFor(tag)}
	return t, nil
}

// proxyImage turns a control-plane image (hub/pilot:TAG, hub/sidecar_injector:TAG) into the proxy image
// of the same hub and tag, and returns the tag.
func proxyImage(image string) (string, string) {
	hub, rest := "", image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		hub, rest = image[:i+1], image[i+1:]
	}
	tag := "latest"
	if i := strings.Index(rest, ":"); i >= 0 {
		tag = rest[i+1:]
	}
	return hub + "proxyv2:" + tag, tag
}

// recordFor says where an injector of version tag records its revision: nowhere before 1.6, the pod
// label in 1.6-1.10, the label and the status annotation from 1.11.
func recordFor(tag string) Record {
	parts := strings.SplitN(strings.TrimPrefix(tag, "v"), ".", 3)
	if len(parts) < 2 || parts[0] != "1" {
		return RecordBoth
	}
	minor, err := strconv.Atoi(parts[1])
	switch {
	case err != nil:
		return RecordBoth
	case minor <= 5:
		return RecordNone
	case minor <= 10:
		return RecordLabel
	}
	return RecordBoth
}

// certMinter issues serving certificates for Service host names, signed by the test CA.
type certMinter struct {
	ca    *x509.Certificate
	key   crypto.Signer
	leaf  *ecdsa.PrivateKey // one key for every certificate: they live a day in a test cluster
	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

func newCertMinter(certFile, keyFile string) (*certMinter, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("the CA key cannot sign")
	}
	leaf, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &certMinter{ca: ca, key: key, leaf: leaf, cache: map[string]*tls.Certificate{}}, nil
}

func (m *certMinter) certFor(host string) (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[host]; ok {
		return c, nil
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, m.ca, &m.leaf.PublicKey, m.key)
	if err != nil {
		return nil, err
	}
	cert := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: m.leaf}
	m.cache[host] = cert
	return cert, nil
}

// serviceOf splits `name.namespace.svc[:port]` (also `.svc.cluster.local`).
func serviceOf(host string) (namespace, service string, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".cluster.local")
	parts := strings.Split(host, ".")
	if len(parts) != 3 || parts[2] != "svc" {
		return "", "", false
	}
	return parts[1], parts[0], true
}

// connListener hands hijacked, TLS-wrapped CONNECT tunnels to an http.Server.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// tunnel is a TLS connection through a CONNECT, with the Service it was opened for.
type tunnel struct {
	net.Conn
	target target
}

type targetKey struct{}

// serveProxy runs the proxy until ctx ends.
func serveProxy(ctx context.Context, o proxyOptions) error {
	minter, err := newCertMinter(o.CACert, o.CAKey)
	if err != nil {
		return err
	}
	clientPair, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
	if err != nil {
		return fmt.Errorf("loading the client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(o.CACert)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	api := &apiClient{base: strings.TrimSuffix(o.APIServer, "/"), client: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil, // the API server is reached directly, never through a proxy
			TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{clientPair}, RootCAs: roots, MinVersion: tls.VersionTLS12},
		},
	}}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return err
	}
	tunnels := &connListener{conns: make(chan net.Conn), done: make(chan struct{}), addr: ln.Addr()}
	webhooks := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handleWebhook(w, r, api)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if t, ok := c.(*tunnel); ok {
				return context.WithValue(ctx, targetKey{}, t.target)
			}
			return ctx
		},
		ErrorLog: log.New(os.Stderr, "stand-in-injector: webhook: ", log.LstdFlags|log.LUTC),
	}
	proxy := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			connect(w, r, api, minter, tunnels)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, "stand-in-injector: proxy: ", log.LstdFlags|log.LUTC),
	}
	errc := make(chan error, 2)
	go func() { errc <- webhooks.Serve(tunnels) }()
	go func() { errc <- proxy.Serve(ln) }()
	log.Printf("proxying webhook calls for Services on http://%s (pid %d)", ln.Addr(), os.Getpid())
	if o.AddrFile != "" {
		if err := writeAddr(o.AddrFile, ln.Addr().String()); err != nil {
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = proxy.Shutdown(sctx)
	_ = webhooks.Shutdown(sctx)
	log.Printf("stopped")
	return nil
}

// connect answers one CONNECT: refuses what is not a Service with ready endpoints, else opens a TLS
// tunnel whose requests handleWebhook answers.
func connect(w http.ResponseWriter, r *http.Request, api *apiClient, minter *certMinter, tunnels *connListener) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels webhook calls (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	namespace, service, ok := serviceOf(r.Host)
	if !ok {
		log.Printf("CONNECT %s: refused: not a Service host name", r.Host)
		http.Error(w, "not a Service host name", http.StatusBadGateway)
		return
	}
	t, err := api.resolve(r.Context(), namespace, service)
	if err != nil {
		log.Printf("CONNECT %s: refused: %v", r.Host, err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot tunnel", http.StatusInternalServerError)
		return
	}
	conn, buffered, err := hijacker.Hijack()
	if err != nil {
		log.Printf("CONNECT %s: hijack: %v", r.Host, err)
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	host, _, _ := strings.Cut(r.Host, ":")
	config := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = host
			}
			return minter.certFor(name)
		},
	}
	log.Printf("CONNECT %s: tunnel to the pods of %s/%s (revision %s, %s)",
		r.Host, namespace, service, t.Params.Revision, t.Params.Image)
	raw := net.Conn(conn)
	if buffered != nil && buffered.Reader.Buffered() > 0 {
		raw = &prefixedConn{Conn: conn, reader: buffered.Reader}
	}
	select {
	case tunnels.conns <- &tunnel{Conn: tls.Server(raw, config), target: t}:
	case <-tunnels.done:
		conn.Close()
	}
}

// prefixedConn replays bytes the proxy's reader had already buffered.
type prefixedConn struct {
	net.Conn
	reader *bufio.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.reader.Read(p) }

// handleWebhook answers a webhook call that came through a tunnel. The API server keeps tunnels open,
// so each call looks the Service up again: once no pod is ready behind it, the connection is cut, as the
// call to a pod that went away would fail.
func handleWebhook(w http.ResponseWriter, r *http.Request, api *apiClient) {
	start := time.Now()
	opened, _ := r.Context().Value(targetKey{}).(target)
	t, err := api.resolve(r.Context(), opened.Namespace, opened.Service)
	if err != nil {
		log.Printf("%s/%s %s: connection cut: %v", opened.Namespace, opened.Service, r.URL.Path, err)
		if hijacker, ok := w.(http.Hijacker); ok {
			if conn, _, err := hijacker.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		body = nil
	}
	var out *admissionReview
	var outcome string
	if r.URL.Path == "/inject" || strings.HasPrefix(r.URL.Path, "/inject/") {
		out, outcome = review(body, t.Params, nil)
	} else {
		var in admissionReview
		_ = json.Unmarshal(body, &in)
		uid := ""
		if in.Request != nil {
			uid = in.Request.UID
		}
		out, outcome = allow(in.APIVersion, uid), "uid="+uid+": allowed (validation is not checked)"
	}
	resp, err := json.Marshal(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
	log.Printf("%s/%s %s: %s in %s", t.Namespace, t.Service, r.URL.Path, outcome, time.Since(start).Round(time.Microsecond))
}

// writeAddr writes the listening address to path atomically.
func writeAddr(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
