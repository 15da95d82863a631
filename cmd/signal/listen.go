package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Each listener caps its open connections, so that a flood on one (slow
// connections to the management API) can neither use up the process's file
// descriptors nor starve the other: the ingestion gateway keeps answering
// while the admin listener is flooded. Past its cap a listener stops
// accepting (new connections wait in the kernel's queue) until one closes.
// Every request must finish sending its headers within ReadHeaderTimeout and
// its body within ReadTimeout; a connection idle for IdleTimeout is closed.
// The Live Events stream, a long-lived GET, outlives ReadTimeout (see
// adminServer).
const (
	adminMaxConns    = 256
	gatewayMaxConns  = 10000
	reservedFDs      = 128 // database files, vendor connections, logs
	adminReadTimeout = 30 * time.Second
)

// connCaps returns the connection caps of the gateway and admin listeners
// for a process allowed nofile descriptors (0: unknown): the defaults,
// shrunk to fit so that the two caps plus a reserve stay under the limit.
func connCaps(nofile uint64) (gateway, admin int) {
	gateway, admin = gatewayMaxConns, adminMaxConns
	if nofile == 0 {
		return gateway, admin
	}
	avail := int(min(nofile, 1<<20)) - reservedFDs
	admin = max(4, min(admin, avail/8))
	gateway = max(4, min(gateway, avail-admin))
	return gateway, admin
}

// limitListener returns a listener that has at most n connections open at
// once (golang.org/x/net/netutil.LimitListener, written out to need no
// dependency).
func limitListener(l net.Listener, n int) net.Listener {
	return &limitedListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// adminServer is the management API's server. Request bodies have a read
// deadline (ReadTimeout) like the gateway's. The Live Events stream, a GET
// that lasts as long as someone watches, is not cut by it: net/http clears
// the read deadline once a request's body is consumed (a GET has none), to
// watch for the client going away (TestAdminServerReadDeadline pins it).
// No WriteTimeout, for the same stream.
func adminServer(h http.Handler, readTimeout time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: readTimeout, IdleTimeout: 120 * time.Second}
}

// liveEventsStream is the management API's only long-lived request.
const liveEventsStream = "/v1/admin/live-events/stream"
