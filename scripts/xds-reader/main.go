// xds-reader connects to istiod's plaintext xDS port as one proxy and prints, as JSON lines, the
// configuration istiod computes for it: for a sidecar, the endpoints (EDS) of every outbound
// cluster it subscribes to and the filter chain matches of its inbound listener (how it accepts
// connections: mTLS only, or plaintext too); for a waypoint, the endpoints of every inbound-vip cluster (one per service port
// it serves); for ztunnel, every workload and service address and every authorization policy. It
// reconnects when istiod restarts, so one reader can follow a whole mode switch.
//
// Each line is one of:
//
//	{"at": <unix ms>, "snapshot": {<resource name>: <resource as protojson>, ...}, "listeners": {...}, "authorizations": {...}}
//	{"at": <unix ms>, "event": "connected" | "disconnected", "error": "..."}
//
// When no cluster matches, the names and types of the clusters istiod did send go to stderr, so a
// reader that prints no snapshot says what it got instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"istio.io/istio/pkg/workloadapi"
	"istio.io/istio/pkg/workloadapi/security"
)

const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	endpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	addressType  = "type.googleapis.com/istio.workload.Address"
	policyType   = "type.googleapis.com/istio.security.Authorization"
	// The listener through which a sidecar accepts every inbound connection.
	inboundListener = "virtualInbound"
)

type options struct {
	addr     string
	kind     string
	nodeID   string
	metadata map[string]any
	locality *core.Locality
	hosts    []string
	watch    time.Duration
}

func main() {
	var o options
	var metadata, locality, hosts string
	flag.StringVar(&o.addr, "addr", "127.0.0.1:15010", "istiod's plaintext xDS address")
	flag.StringVar(&o.kind, "kind", "sidecar", "sidecar or waypoint (CDS, EDS and LDS over ADS), or ztunnel (WDS over delta ADS)")
	flag.StringVar(&o.nodeID, "node", "", "the proxy's node ID, such as sidecar~10.244.0.5~client-a-1.bookinfo~bookinfo.svc.cluster.local")
	flag.StringVar(&metadata, "metadata", "{}", "node metadata as a JSON object, as the proxy's bootstrap sends it")
	flag.StringVar(&locality, "locality", "", "region/zone the proxy reports itself (istiod prefers what its registry knows)")
	flag.StringVar(&hosts, "hosts", "", "comma-separated service hostnames whose clusters to follow (sidecar, waypoint; default all)")
	flag.DurationVar(&o.watch, "watch", 0, "keep following pushes this long; 0 prints the first complete snapshot and exits")
	flag.Parse()

	if o.nodeID == "" {
		fail("--node is required")
	}
	if err := json.Unmarshal([]byte(metadata), &o.metadata); err != nil {
		fail("--metadata is not a JSON object: %v", err)
	}
	if locality != "" {
		parts := strings.SplitN(locality, "/", 3)
		o.locality = &core.Locality{Region: parts[0]}
		if len(parts) > 1 {
			o.locality.Zone = parts[1]
		}
		if len(parts) > 2 {
			o.locality.SubZone = parts[2]
		}
	}
	if hosts != "" {
		o.hosts = strings.Split(hosts, ",")
	}
	if o.kind != "sidecar" && o.kind != "waypoint" && o.kind != "ztunnel" {
		fail("--kind is %q; expected sidecar, waypoint or ztunnel", o.kind)
	}

	ctx := context.Background()
	if o.watch > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.watch)
		defer cancel()
	}
	out := &printer{enc: json.NewEncoder(os.Stdout)}
	for {
		err := follow(ctx, o, out)
		if err == errComplete || ctx.Err() != nil {
			return
		}
		out.event("disconnected", err)
		if o.watch == 0 {
			os.Exit(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var errComplete = fmt.Errorf("complete snapshot printed")

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xds-reader: "+format+"\n", args...)
	os.Exit(2)
}

type printer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (p *printer) event(name string, err error) {
	line := map[string]any{"at": time.Now().UnixMilli(), "event": name}
	if err != nil {
		line["error"] = err.Error()
	}
	p.write(line)
}

// snapshot prints one line: the main resources (endpoints or addresses) under "snapshot", and each
// further kind that is not empty under its own key.
func (p *printer) snapshot(main map[string]proto.Message, more map[string]map[string]proto.Message) error {
	line := map[string]any{"at": time.Now().UnixMilli()}
	sections := map[string]map[string]proto.Message{"snapshot": main}
	for key, resources := range more {
		if len(resources) > 0 {
			sections[key] = resources
		}
	}
	for key, resources := range sections {
		encoded := make(map[string]json.RawMessage, len(resources))
		for name, resource := range resources {
			raw, err := protojson.Marshal(resource)
			if err != nil {
				return err
			}
			encoded[name] = raw
		}
		line[key] = encoded
	}
	p.write(line)
	return nil
}

func (p *printer) write(line map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.enc.Encode(line)
}

func node(o options) (*core.Node, error) {
	metadata, err := structpb.NewStruct(o.metadata)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return &core.Node{Id: o.nodeID, Metadata: metadata, Locality: o.locality}, nil
}

func follow(ctx context.Context, o options, out *printer) error {
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	n, err := node(o)
	if err != nil {
		return err
	}
	client := discovery.NewAggregatedDiscoveryServiceClient(conn)
	if o.kind == "ztunnel" {
		return followAddresses(ctx, client, n, o, out)
	}
	return followEndpoints(ctx, client, n, o, out)
}

// followEndpoints subscribes to clusters, then to the endpoints of every EDS cluster of the chosen
// hosts (a sidecar's outbound ones, a waypoint's inbound-vip ones); a sidecar also to its listeners.
// istiod may push only the assignments that changed, so the reader keeps the last one of each
// cluster and prints the whole set after every push once all have arrived.
func followEndpoints(ctx context.Context, client discovery.AggregatedDiscoveryServiceClient, n *core.Node, o options, out *printer) error {
	stream, err := client.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&discovery.DiscoveryRequest{Node: n, TypeUrl: clusterType}); err != nil {
		return err
	}
	wantListeners := o.kind == "sidecar"
	if wantListeners {
		if err := stream.Send(&discovery.DiscoveryRequest{Node: n, TypeUrl: listenerType}); err != nil {
			return err
		}
	}
	out.event("connected", nil)
	var subscribed []string
	assignments := map[string]proto.Message{}
	listeners := map[string]proto.Message{}
	complete := func() bool {
		return len(subscribed) > 0 && len(assignments) == len(subscribed) && (!wantListeners || len(listeners) > 0)
	}
	for {
		response, err := stream.Recv()
		if err != nil {
			return err
		}
		ack := &discovery.DiscoveryRequest{
			Node:          n,
			TypeUrl:       response.TypeUrl,
			VersionInfo:   response.VersionInfo,
			ResponseNonce: response.Nonce,
		}
		switch response.TypeUrl {
		case clusterType:
			names, err := edsClusters(response, clusterPrefix(o.kind), o.hosts)
			if err != nil {
				return err
			}
			if err := stream.Send(ack); err != nil {
				return err
			}
			if strings.Join(names, ",") != strings.Join(subscribed, ",") {
				subscribed = names
				for name := range assignments {
					if !contains(names, name) {
						delete(assignments, name)
					}
				}
				if err := stream.Send(&discovery.DiscoveryRequest{Node: n, TypeUrl: endpointType, ResourceNames: names}); err != nil {
					return err
				}
			}
			continue
		case endpointType:
			ack.ResourceNames = subscribed
			for _, resource := range response.Resources {
				var assignment endpoint.ClusterLoadAssignment
				if err := resource.UnmarshalTo(&assignment); err != nil {
					return err
				}
				assignments[assignment.ClusterName] = &assignment
			}
		case listenerType:
			// State of the world: each response holds every listener.
			clear(listeners)
			for _, resource := range response.Resources {
				var l listener.Listener
				if err := resource.UnmarshalTo(&l); err != nil {
					return err
				}
				if l.Name == inboundListener {
					listeners[l.Name] = matchesOnly(&l)
				}
			}
		}
		if err := stream.Send(ack); err != nil {
			return err
		}
		if (response.TypeUrl == endpointType || response.TypeUrl == listenerType) && complete() {
			if err := out.snapshot(assignments, map[string]map[string]proto.Message{"listeners": listeners}); err != nil {
				return err
			}
			if o.watch == 0 {
				return errComplete
			}
		}
	}
}

// matchesOnly keeps of a listener what says which connections it accepts: each filter chain's
// match. The chains' filters are typed configs of Envoy extensions this reader does not link, which
// it could not print.
func matchesOnly(l *listener.Listener) *listener.Listener {
	kept := &listener.Listener{Name: l.Name}
	for _, chain := range l.FilterChains {
		kept.FilterChains = append(kept.FilterChains, &listener.FilterChain{Name: chain.Name, FilterChainMatch: chain.FilterChainMatch})
	}
	return kept
}

// clusterPrefix names the EDS clusters a proxy kind sends a service's requests through: a sidecar's
// outbound clusters, a waypoint's inbound-vip clusters.
func clusterPrefix(kind string) string {
	if kind == "waypoint" {
		return "inbound-vip|"
	}
	return "outbound|"
}

func edsClusters(response *discovery.DiscoveryResponse, prefix string, hosts []string) ([]string, error) {
	var names, others []string
	for _, resource := range response.Resources {
		var c cluster.Cluster
		if err := resource.UnmarshalTo(&c); err != nil {
			return nil, err
		}
		if c.GetType() != cluster.Cluster_EDS || !strings.HasPrefix(c.Name, prefix) {
			others = append(others, fmt.Sprintf("%s (%s)", c.Name, c.GetType()))
			continue
		}
		if len(hosts) == 0 || contains(hosts, c.Name[strings.LastIndex(c.Name, "|")+1:]) {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(os.Stderr, "xds-reader: no EDS cluster %s* of the hosts among the %d clusters istiod sent: %s\n",
			prefix, len(response.Resources), strings.Join(others, ", "))
	}
	return names, nil
}

func contains(list []string, item string) bool {
	for _, x := range list {
		if x == item {
			return true
		}
	}
	return false
}

// followAddresses subscribes to every address and every authorization policy, as ztunnel does, and
// prints the whole set after each push.
func followAddresses(ctx context.Context, client discovery.AggregatedDiscoveryServiceClient, n *core.Node, o options, out *printer) error {
	stream, err := client.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typeURL := range []string{addressType, policyType} {
		if err := stream.Send(&discovery.DeltaDiscoveryRequest{Node: n, TypeUrl: typeURL}); err != nil {
			return err
		}
	}
	out.event("connected", nil)
	received := map[string]map[string]proto.Message{addressType: {}, policyType: {}}
	// istiod answers each subscription once even when it has nothing to send.
	answered := map[string]bool{}
	for {
		response, err := stream.Recv()
		if err != nil {
			return err
		}
		resources, known := received[response.TypeUrl]
		if known {
			for _, resource := range response.Resources {
				var message proto.Message = &workloadapi.Address{}
				if response.TypeUrl == policyType {
					message = &security.Authorization{}
				}
				if err := resource.Resource.UnmarshalTo(message); err != nil {
					return err
				}
				resources[resource.Name] = message
			}
			for _, name := range response.RemovedResources {
				delete(resources, name)
			}
		}
		if err := stream.Send(&discovery.DeltaDiscoveryRequest{Node: n, TypeUrl: response.TypeUrl, ResponseNonce: response.Nonce}); err != nil {
			return err
		}
		if known {
			answered[response.TypeUrl] = true
			if err := out.snapshot(received[addressType], map[string]map[string]proto.Message{"authorizations": received[policyType]}); err != nil {
				return err
			}
			if o.watch == 0 && answered[addressType] && answered[policyType] {
				return errComplete
			}
		}
	}
}
