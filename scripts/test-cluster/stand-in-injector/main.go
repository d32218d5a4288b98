// stand-in-injector is a STAND-IN for Istio's sidecar injector, written only for sailplan's real-cluster
// tests (scripts/test-cluster/README.md). It is not Istio and injects nothing that runs.
//
// Why it exists: the test cluster (kube-apiserver + kwok, no container runtime) cannot run istiod, but
// sailplan's upgrade logic reads what the injector leaves on pods: the istio-proxy container and its
// image, the sidecar.istio.io/status annotation and the istio.io/rev label. This program answers the
// API server's mutating admission webhook calls for Pod CREATE with a JSONPatch that marks pods the way
// Istio's injector does, so kwok then "runs" pods that look injected by a given revision and proxy image.
//
// Two modes:
//
//	stand-in-injector --listen 127.0.0.1:PORT --tls-cert FILE --tls-key FILE [--addr-file FILE]
//	    serves POST /inject/revision/REV[/record/none|label|annotation|both]/image/HUB/proxyv2:TAG
//	    (AdmissionReview v1; the same parameters are accepted as a query string, /inject?revision=REV&
//	    image=IMG&record=R, but the API server forbids query strings in webhook URLs) and GET /healthz. PORT may be 0; the chosen address is logged and, with
//	    --addr-file, written to FILE once the server accepts connections. Stops cleanly on SIGTERM/SIGINT.
//
//	stand-in-injector --proxy-listen 127.0.0.1:PORT --ca-file CA.crt --ca-key CA.key --api-server URL \
//	    --client-cert FILE --client-key FILE [--addr-file FILE]
//	    an HTTP CONNECT proxy for kube-apiserver's webhook calls to Services: it plays the pods behind an
//	    Istio webhook Service (see proxy.go).
//
//	stand-in-injector --print-webhook-config --name NAME --url-base https://127.0.0.1:PORT \
//	    --ca-file FILE --revision REV --image IMG [--record R] [--namespace-selector-json JSON]
//	    prints a MutatingWebhookConfiguration (JSON, for kubectl apply -f -) pointing at the server.
//
// It never denies a request: anything it cannot parse or does not handle is allowed without a patch, and
// every request is logged as one line on stderr.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const maxBody = 16 << 20 // far above any real AdmissionReview; the API server caps objects at 3 MiB

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	log.SetPrefix("stand-in-injector: ")

	fs := flag.NewFlagSet("stand-in-injector", flag.ContinueOnError)
	var (
		listen    = fs.String("listen", "", "serve on this address, e.g. 127.0.0.1:15017 (port 0 = any free port)")
		tlsCert   = fs.String("tls-cert", "", "serving certificate (PEM), e.g. STATE_DIR/pki/stand-in-injector.crt")
		tlsKey    = fs.String("tls-key", "", "serving key (PEM)")
		addrFile  = fs.String("addr-file", "", "optional: write the listening host:port to this file once serving")
		printCfg  = fs.Bool("print-webhook-config", false, "print a MutatingWebhookConfiguration and exit")
		name      = fs.String("name", "", "webhook configuration name (with --print-webhook-config)")
		hookName  = fs.String("webhook-name", "namespace.stand-in-injector.sailplan.test", "name of the webhook entry")
		urlBase   = fs.String("url-base", "", "https://HOST:PORT the server listens on")
		caFile    = fs.String("ca-file", "", "CA certificate (PEM) that signed the serving certificate")
		revision  = fs.String("revision", "", "Istio revision to record on injected pods, e.g. 1-6-14 or default")
		image     = fs.String("image", "", "proxy image, e.g. docker.io/istio/proxyv2:1.6.14")
		record    = fs.String("record", "", "none|label|annotation|both (omitted from the URL when empty: both)")
		nsSelJSON = fs.String("namespace-selector-json", "", "namespaceSelector as JSON (default: like Istio's)")
		proxyAt   = fs.String("proxy-listen", "", "proxy mode: serve HTTP CONNECT on this address (see proxy.go)")
		caKey     = fs.String("ca-key", "", "proxy mode: key of --ca-file, to sign per-Service certificates")
		apiServer = fs.String("api-server", "", "proxy mode: the API server's https://HOST:PORT")
		clientCrt = fs.String("client-cert", "", "proxy mode: client certificate for the API server")
		clientKey = fs.String("client-key", "", "proxy mode: its key")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "stand-in-injector: a test STAND-IN for Istio's sidecar injector (see main.go)\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() != 0 {
		usageError("unexpected arguments: %v", fs.Args())
	}

	if *printCfg {
		out, err := webhookConfig(webhookOptions{
			Name: *name, WebhookName: *hookName, URLBase: *urlBase, CAFile: *caFile,
			Revision: *revision, Image: *image, Record: *record, NamespaceSelectorJSON: *nsSelJSON,
		})
		if err != nil {
			usageError("%v", err)
		}
		os.Stdout.Write(out)
		return
	}

	if *proxyAt != "" {
		if *caFile == "" || *caKey == "" || *apiServer == "" || *clientCrt == "" || *clientKey == "" {
			usageError("--proxy-listen needs --ca-file, --ca-key, --api-server, --client-cert and --client-key")
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		err := serveProxy(ctx, proxyOptions{
			Listen: *proxyAt, AddrFile: *addrFile, CACert: *caFile, CAKey: *caKey,
			APIServer: *apiServer, ClientCert: *clientCrt, ClientKey: *clientKey,
		})
		if err != nil {
			log.Printf("error: %v", err)
			os.Exit(1)
		}
		return
	}
	if *listen == "" || *tlsCert == "" || *tlsKey == "" {
		usageError("--listen, --tls-cert and --tls-key are required (or use --print-webhook-config)")
	}
	if err := serve(*listen, *tlsCert, *tlsKey, *addrFile); err != nil {
		log.Printf("error: %v", err)
		os.Exit(1)
	}
}

func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "stand-in-injector: "+format+"\n", args...)
	os.Exit(2)
}

// serve runs the HTTPS server until SIGTERM or SIGINT, then shuts it down gracefully.
func serve(addr, certFile, keyFile, addrFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})

	mux := http.NewServeMux()
	mux.HandleFunc("/inject", handleInject)
	mux.HandleFunc("/inject/", handleInject)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s from %s: 404", r.Method, r.URL, r.RemoteAddr)
		http.NotFound(w, r)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, "stand-in-injector: http: ", log.LstdFlags|log.LUTC),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tlsLn) }()

	actual := ln.Addr().String()
	log.Printf("serving https://%s/inject (pid %d)", actual, os.Getpid())
	if addrFile != "" {
		if err := writeAddr(addrFile, actual); err != nil {
			return err
		}
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Printf("signal received; shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Printf("stopped")
	return nil
}

// paramsFrom reads the webhook parameters from the request path, /inject/revision/REV[/record/R]/image/IMG
// (what --print-webhook-config writes: the API server allows no query string in webhook URLs), or, for
// manual calls, from the query string: /inject?revision=REV&image=IMG[&record=R]. The path wins.
func paramsFrom(r *http.Request) (Params, error) {
	q := r.URL.Query()
	v := map[string]string{"revision": q.Get("revision"), "image": q.Get("image"), "record": q.Get("record")}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/inject/"); ok && rest != "" {
		segs := strings.Split(rest, "/")
		for i := 0; i < len(segs); i += 2 {
			key := segs[i]
			if key == "image" { // last: the image itself contains slashes
				v[key] = strings.Join(segs[i+1:], "/")
				break
			}
			if _, known := v[key]; !known || i+1 >= len(segs) {
				return Params{}, fmt.Errorf("bad path %q: want /inject/revision/REV[/record/R]/image/IMG", r.URL.Path)
			}
			v[key] = segs[i+1]
		}
	}
	rec, err := parseRecord(v["record"])
	p := Params{Revision: v["revision"], Image: v["image"], Record: rec}
	switch {
	case err != nil:
		return p, err
	case p.Revision == "":
		return p, errors.New("no revision in the URL")
	case p.Image == "":
		return p, errors.New("no image in the URL")
	}
	return p, nil
}

func handleInject(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		body = nil // answered below as "not parsed"
	}
	prm, prmErr := paramsFrom(r)
	out, outcome := review(body, prm, prmErr)
	resp, err := json.Marshal(out)
	if err != nil { // cannot happen with these types
		http.Error(w, err.Error(), http.StatusInternalServerError)
		log.Printf("%s %s: marshalling the response failed: %v", r.Method, r.URL.Path, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
	log.Printf("%s in %s", outcome, time.Since(start).Round(time.Microsecond))
}
