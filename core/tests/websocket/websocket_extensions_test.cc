// Tests of Sec-WebSocket-Extensions parsing and permessage-deflate negotiation (RFC 7692 7.1):
// each case a request header, the options, and the exact response header (empty: declined) with
// the parameters agreed.
#include "bromine/websocket.h"
#include "websocket/websocket_extensions.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bromine {
namespace {

struct NegotiationCase {
  std::string name;
  std::string offers;
  std::string response; // empty: nothing agreed
  WebSocketDeflateParams params{};
  WebSocketDeflateOptions options{};
};

void run_cases(const std::vector<NegotiationCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.offers);
    const WebSocketExtensions agreed = negotiate_websocket_extensions(c.offers, c.options);
    EXPECT_EQ(agreed.header, c.response);
    ASSERT_EQ(agreed.deflate.has_value(), !c.response.empty());
    if (!agreed.deflate) continue;
    EXPECT_EQ(agreed.deflate->server_window_bits, c.params.server_window_bits);
    EXPECT_EQ(agreed.deflate->client_window_bits, c.params.client_window_bits);
    EXPECT_EQ(agreed.deflate->client_context_takeover, c.params.client_context_takeover);
  }
}

constexpr const char* kDefault = "permessage-deflate; server_no_context_takeover; "
                                 "client_no_context_takeover";

TEST(WebSocketExtensions, OffersAndParameters) {
  run_cases({
      {"no header", "", ""},
      {"a bare offer", "permessage-deflate", kDefault},
      {"the name in another case", "PerMessage-Deflate", kDefault},
      {"Chrome's offer", "permessage-deflate; client_max_window_bits", kDefault},
      {"Firefox's offer", "permessage-deflate", kDefault},
      {"client_no_context_takeover offered", "permessage-deflate; client_no_context_takeover",
       kDefault},
      {"server_no_context_takeover offered", "permessage-deflate; server_no_context_takeover",
       kDefault},
      {"server_max_window_bits=9: answered and honoured",
       "permessage-deflate; server_max_window_bits=9",
       std::string(kDefault) + "; server_max_window_bits=9",
       {.server_window_bits = 9}},
      {"server_max_window_bits=15 is echoed", "permessage-deflate; server_max_window_bits=15",
       std::string(kDefault) + "; server_max_window_bits=15"},
      {"server_max_window_bits=8",
       "permessage-deflate;server_max_window_bits=8",
       std::string(kDefault) + "; server_max_window_bits=8",
       {.server_window_bits = 8}},
      {"client_max_window_bits with a value",
       "permessage-deflate; client_max_window_bits=10",
       kDefault,
       {.client_window_bits = 10}},
      {"a quoted value",
       "permessage-deflate; server_max_window_bits=\"10\"",
       std::string(kDefault) + "; server_max_window_bits=10",
       {.server_window_bits = 10}},
      {"a quoted value with an escape",
       "permessage-deflate; server_max_window_bits=\"1\\1\"",
       std::string(kDefault) + "; server_max_window_bits=11",
       {.server_window_bits = 11}},
      {"whitespace around ; and =",
       "permessage-deflate ;\tserver_max_window_bits = 12 ; client_max_window_bits",
       std::string(kDefault) + "; server_max_window_bits=12",
       {.server_window_bits = 12}},
      {"the first acceptable of several offers",
       "permessage-deflate; server_max_window_bits=10, permessage-deflate",
       std::string(kDefault) + "; server_max_window_bits=10",
       {.server_window_bits = 10}},
      {"Autobahn 13.7's three offers",
       "permessage-deflate; client_no_context_takeover; client_max_window_bits; "
       "server_no_context_takeover; server_max_window_bits=9, permessage-deflate; "
       "client_no_context_takeover; client_max_window_bits; server_no_context_takeover, "
       "permessage-deflate; client_no_context_takeover; client_max_window_bits",
       std::string(kDefault) + "; server_max_window_bits=9",
       {.server_window_bits = 9}},
      {"other extensions first", "x-webkit-deflate-frame, foo; bar=\"a,b;c\", permessage-deflate",
       kDefault},
      {"an empty element", ", ,permessage-deflate,", kDefault},
  });
}

TEST(WebSocketExtensions, DeclinedOffers) {
  run_cases({
      {"another extension only", "x-webkit-deflate-frame", ""},
      {"an unknown parameter", "permessage-deflate; foo", ""},
      {"a parameter twice",
       "permessage-deflate; server_no_context_takeover; "
       "server_no_context_takeover",
       ""},
      {"client_max_window_bits twice",
       "permessage-deflate; client_max_window_bits; client_max_window_bits=10", ""},
      {"server_max_window_bits without a value", "permessage-deflate; server_max_window_bits", ""},
      {"server_max_window_bits=7", "permessage-deflate; server_max_window_bits=7", ""},
      {"server_max_window_bits=16", "permessage-deflate; server_max_window_bits=16", ""},
      {"a leading zero", "permessage-deflate; server_max_window_bits=010", ""},
      {"not a number", "permessage-deflate; client_max_window_bits=ten", ""},
      {"a value on a flag", "permessage-deflate; client_no_context_takeover=1", ""},
      {"a quoted value on a flag", "permessage-deflate; server_no_context_takeover=\"\"", ""},
      {"an empty value", "permessage-deflate; server_max_window_bits=", ""},
      {"an unterminated quote", "permessage-deflate; server_max_window_bits=\"10", ""},
      {"a stray character", "permessage-deflate / 2", ""},
      {"a missing parameter name", "permessage-deflate; =10", ""},
      {"a bad offer then a good one: the good one",
       "permessage-deflate; server_max_window_bits=99, permessage-deflate", kDefault},
      {"a malformed element then a good one", "permessage-deflate; a=\"x,y\" z, permessage-deflate",
       kDefault},
      {"an unterminated quote swallows the rest", "foo; a=\"x, permessage-deflate", ""},
      {"switched off", "permessage-deflate", "", {}, {.enabled = false}},
  });
}

TEST(WebSocketExtensions, ServerOptions) {
  run_cases({
      {"a smaller server window is announced",
       "permessage-deflate",
       std::string(kDefault) + "; server_max_window_bits=10",
       {.server_window_bits = 10},
       {.server_max_window_bits = 10}},
      {"the smaller of the offer's and ours",
       "permessage-deflate; server_max_window_bits=12",
       std::string(kDefault) + "; server_max_window_bits=10",
       {.server_window_bits = 10},
       {.server_max_window_bits = 10}},
      {"client context takeover allowed",
       "permessage-deflate",
       "permessage-deflate; server_no_context_takeover",
       {.client_context_takeover = true},
       {.client_context_takeover = true}},
      {"client context takeover allowed, but the client offers none",
       "permessage-deflate; client_no_context_takeover",
       kDefault,
       {},
       {.client_context_takeover = true}},
      {"client context takeover with a smaller window asked of the client",
       "permessage-deflate; client_max_window_bits",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
       {.client_window_bits = 10, .client_context_takeover = true},
       {.client_context_takeover = true, .client_max_window_bits = 10}},
      {"the client's own smaller window stands",
       "permessage-deflate; client_max_window_bits=9",
       "permessage-deflate; server_no_context_takeover",
       {.client_window_bits = 9, .client_context_takeover = true},
       {.client_context_takeover = true, .client_max_window_bits = 10}},
      {"no client_max_window_bits in the offer: none in the answer",
       "permessage-deflate",
       "permessage-deflate; server_no_context_takeover",
       {.client_context_takeover = true},
       {.client_context_takeover = true, .client_max_window_bits = 10}},
  });
}

TEST(WebSocketExtensions, ParsesOffers) {
  const auto offers =
      parse_websocket_extensions("a; x=1; y=\"q\\\"uote,;\"; z, b, c d, e;f=\"open");
  ASSERT_EQ(offers.size(), 4u);
  EXPECT_EQ(offers[0].name, "a");
  EXPECT_TRUE(offers[0].well_formed);
  ASSERT_EQ(offers[0].params.size(), 3u);
  EXPECT_EQ(offers[0].params[0].name, "x");
  EXPECT_EQ(offers[0].params[0].value, "1");
  EXPECT_EQ(offers[0].params[1].value, "q\"uote,;");
  EXPECT_FALSE(offers[0].params[2].value.has_value());
  EXPECT_EQ(offers[1].name, "b");
  EXPECT_TRUE(offers[1].params.empty());
  EXPECT_EQ(offers[2].name, "c");
  EXPECT_FALSE(offers[2].well_formed);
  EXPECT_EQ(offers[3].name, "e");
  EXPECT_FALSE(offers[3].well_formed);
}

} // namespace
} // namespace bromine
