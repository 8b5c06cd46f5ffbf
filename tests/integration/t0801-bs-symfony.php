<?php
// Driven by t0801-bs-symfony.sh: symfony/mailer's SendmailTransport with
// its default -bs command, pointed at the built postie.
// argv: 1 the command (ends in " -bs"), 2 a file to attach.
require_once '/usr/share/php/Symfony/Component/Mailer/autoload.php';

use Symfony\Component\Mailer\Exception\TransportExceptionInterface;
use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport\SendmailTransport;
use Symfony\Component\Mime\Email;

$mailer = new Mailer(new SendmailTransport($argv[1]));

$mailer->send((new Email())
    ->from('app@example.org')->to('a@example.com')
    ->subject('symfony one')->text("first message\n.a dot line\n"));
echo "sent 1\n";

$mailer->send((new Email())
    ->from('app@example.org')->to('b@example.com')->cc('c@example.com')
    ->subject('symfony two')->text("with an attachment\n")
    ->attachFromPath($argv[2], 'report.pdf', 'application/pdf'));
echo "sent 2\n";

try {
	$mailer->send((new Email())
	    ->from('app@example.org')->to('bad@example.com')
	    ->subject('symfony three')->text("refused\n"));
	echo "sent 3\n";
} catch (TransportExceptionInterface $e) {
	echo "thrown 3: " . str_replace("\n", " ", $e->getMessage()) . "\n";
}
