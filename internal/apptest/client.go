package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"facility/internal/organisations"
)

// Client is one browser (or program) talking to the application in process.
type Client struct {
	env     *Env
	cookies map[string]string
	// IP is the client's address as the server sees it.
	IP string
	// Header is sent with every request (for example Authorization).
	Header http.Header
	// CrossSite makes requests look like they come from another site.
	CrossSite bool
	// NoFetchMetadata leaves out Sec-Fetch-Site, like an old browser.
	NoFetchMetadata bool
}

// Response is what came back.
type Response struct {
	*http.Response
	Body string
}

// Client returns a new client with no cookies.
func (e *Env) Client() *Client {
	return &Client{env: e, cookies: map[string]string{}, IP: "203.0.113.10", Header: http.Header{}}
}

// Do sends a request with the client's cookies and headers.
func (c *Client) Do(method, path string, body io.Reader, contentType string) *Response {
	req := httptest.NewRequest(method, "http://facility.test"+path, body)
	req.RemoteAddr = c.IP + ":40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	switch {
	case c.CrossSite:
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
	case !c.NoFetchMetadata:
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		req.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	rec := httptest.NewRecorder()
	c.env.Web.Handler().ServeHTTP(rec, req)
	res := rec.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	b, _ := io.ReadAll(res.Body)
	return &Response{Response: res, Body: string(b)}
}

// Get fetches a page.
func (c *Client) Get(path string) *Response { return c.Do(http.MethodGet, path, nil, "") }

// PostForm submits a form as a browser would (the CSRF token is taken from
// the cookie jar, as the page's hidden field would carry it).
func (c *Client) PostForm(path string, v url.Values) *Response {
	if v == nil {
		v = url.Values{}
	}
	if tok, ok := c.cookies["__Host-facility_csrf"]; ok && v.Get("csrf") == "" {
		v.Set("csrf", tok)
	}
	return c.Do(http.MethodPost, path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// JSON sends a JSON body (nil for none) and decodes the answer into out when
// out is not nil.
func (c *Client) JSON(method, path string, body any, out any) *Response {
	var r io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.env.t.Fatal(err)
		}
		r, ct = bytes.NewReader(b), "application/json"
	}
	res := c.Do(method, path, r, ct)
	if out != nil && res.Body != "" {
		if err := json.Unmarshal([]byte(res.Body), out); err != nil {
			c.env.t.Fatalf("%s %s: decode %q: %v", method, path, res.Body, err)
		}
	}
	return res
}

// Cookie returns a cookie's value.
func (c *Client) Cookie(name string) string { return c.cookies[name] }

// SetCookie replaces a cookie (for replay tests).
func (c *Client) SetCookie(name, value string) { c.cookies[name] = value }

// Code returns the current TOTP code for secret.
func Code(secret string, at time.Time) string {
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return code
}

// SignIn signs in through the pages, entering a TOTP code when secret is
// set, and fails the test if that does not end signed in.
func (c *Client) SignIn(email, secret string) {
	c.env.t.Helper()
	c.Get("/login")
	res := c.PostForm("/login", url.Values{"email": {email}, "password": {Password}})
	if res.StatusCode != http.StatusSeeOther {
		c.env.t.Fatalf("sign in %s: status %d: %s", email, res.StatusCode, FirstError(res.Body))
	}
	if loc := res.Header.Get("Location"); loc == "/login/totp" {
		res = c.PostForm("/login/totp", url.Values{"code": {Code(secret, time.Now())}})
		if res.StatusCode != http.StatusSeeOther {
			c.env.t.Fatalf("second factor for %s: status %d: %s", email, res.StatusCode, FirstError(res.Body))
		}
	}
}

var errorItem = regexp.MustCompile(`(?s)<p class="field-error"[^>]*>(.*?)</p>`)

// FirstError extracts the first field error message from a page, for test
// failure messages.
func FirstError(body string) string {
	if m := errorItem.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	if len(body) > 300 {
		return body[:300]
	}
	return body
}

func orgInput(name string) organisations.Input {
	return organisations.Input{Name: name, TypeCode: "workers_org_trade_union", CountryISO2: "GH", YearFounded: 1990, Website: "https://example.org"}
}
