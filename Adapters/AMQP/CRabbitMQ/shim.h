// librabbitmq (rabbitmq-c 0.11) as Debian installs it; only CourierAMQP's RabbitMQ* files import it.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
