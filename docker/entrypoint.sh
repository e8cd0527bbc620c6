#!/bin/sh
# Start cron (maintenance jobs, when conf/crontab is installed) and lighttpd
# in the foreground.  Keys come from the environment (docker run -e
# GROQ_API_KEY=...), which lighttpd passes on to the workers.
set -e
chown www-data:www-data /var/lib/rose
if [ -f /usr/local/share/rose/conf/crontab ]; then
    crontab -u www-data /usr/local/share/rose/conf/crontab
    cron
fi
exec lighttpd -D -f /etc/rose/lighttpd.conf
