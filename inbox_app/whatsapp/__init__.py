"""The WhatsApp Cloud API wire format: webhooks, signatures, Graph API client, simulator."""
