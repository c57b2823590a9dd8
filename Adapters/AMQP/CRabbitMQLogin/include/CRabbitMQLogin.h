#ifndef COURIER_CRABBITMQLOGIN_H
#define COURIER_CRABBITMQLOGIN_H

#include <amqp.h>

// amqp_login is variadic, which Swift cannot call: this fixed-argument wrapper logs in with SASL PLAIN.
amqp_rpc_reply_t courier_amqp_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                          int frame_max, int heartbeat, const char *user, const char *password);

#endif
