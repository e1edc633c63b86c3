"""French and English for every page: the locale is chosen per request (a `?lang=` switch that
sticks in a cookie, then Accept-Language), and numbers, money and dates are formatted by Babel
for that locale so that "1 234,56 €" and "€1,234.56" come from the same integer.

The catalog is a plain dict keyed by the English text: the pages are small, a missing French
string shows up as English (never as a key), and a test checks that every string the templates
ask for has its French line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from wefirst.domain.money import exponent

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "wf_lang"

FR: dict[str, str] = {
    # layout
    "Skip to content": "Aller au contenu",
    "Main navigation": "Navigation principale",
    "Home": "Accueil",
    "Verify a receipt": "Vérifier un reçu",
    "Transparency log": "Journal de transparence",
    "Sign in": "Se connecter",
    "Sign out": "Se déconnecter",
    "Console": "Console",
    "Language": "Langue",
    "English": "Anglais",
    "French": "Français",
    "Open data": "Données ouvertes",
    "wefirst: promises you can check": "wefirst : des promesses vérifiables",
    "Every pledge, payment and delivery is recorded in a public, append-only log.": "Chaque promesse, paiement et livraison est inscrit dans un journal public en ajout seul.",
    # home
    "Active campaigns": "Campagnes en cours",
    "No active campaign yet.": "Aucune campagne en cours pour l’instant.",
    "Impact so far": "Impact à ce jour",
    "pledged": "promis",
    "paid": "versé",
    "delivered": "livré",
    "Pledged": "Promis",
    "Paid": "Versé",
    "Delivered": "Livré",
    "Confirmed": "Confirmé",
    "See the campaign": "Voir la campagne",
    "Brand scorecard": "Bulletin de la marque",
    "Brands": "Marques",
    # campaign
    "The promise": "La promesse",
    "Pledged, paid and delivered over time": "Promis, versé et livré au fil du temps",
    "Chart data": "Données du graphique",
    "Date": "Date",
    "Payments to the beneficiary": "Versements au bénéficiaire",
    "Deliveries": "Livraisons",
    "Evidence": "Preuve",
    "Status": "Statut",
    "Amount": "Montant",
    "Units": "Unités",
    "No payment reported yet.": "Aucun versement déclaré pour l’instant.",
    "No delivery reported yet.": "Aucune livraison déclarée pour l’instant.",
    "Latest log entries": "Dernières entrées du journal",
    "Index": "Index",
    "Kind": "Type",
    "Entry": "Entrée",
    "Beneficiary": "Bénéficiaire",
    "Brand": "Marque",
    "Period": "Période",
    "reported": "déclaré",
    "confirmed": "confirmé",
    "disputed": "contesté",
    "Download": "Télécharger",
    "Campaign balances": "Soldes des campagnes",
    "Log entries": "Entrées du journal",
    "Voice series": "Série de la voix publique",
    "Page not found": "Page introuvable",
    "There is nothing at this address.": "Il n’y a rien à cette adresse.",
    "Back to the home page": "Retour à l’accueil",
    # verifier
    "Verify a receipt in your browser": "Vérifier un reçu dans votre navigateur",
    "Your browser checks, by itself, that the entry is in the public log and that the log's "
    "checkpoint is signed by the published key. Nothing you paste is sent to the server.": "Votre navigateur vérifie lui-même que l’entrée figure dans le journal public et que le "
    "point de contrôle du journal est signé par la clé publiée. Rien de ce que vous collez "
    "n’est envoyé au serveur.",
    "Receipt": "Reçu",
    "Paste the receipt (JSON) you were given.": "Collez le reçu (JSON) que vous avez reçu.",
    "Published log key": "Clé publiée du journal",
    "Trust policy (optional)": "Politique de confiance (facultatif)",
    "Check this log without trusting us": "Vérifiez ce journal sans nous faire confiance",
    "Independent witnesses cosign this log, so it cannot show one history to you and another "
    "to someone else. Below is the trust policy this site suggests: a default to copy, not a "
    "proof. Check each key with the witness operators themselves, then paste the policy into "
    "the verifier or give it to wefirst verify --policy.": "Des témoins indépendants cosignent ce "
    "journal : il ne peut pas vous montrer une histoire et une autre à quelqu’un d’autre. "
    "Voici la politique de confiance que ce site propose : un point de départ à copier, pas une "
    "preuve. Vérifiez chaque clé auprès des opérateurs des témoins eux-mêmes, puis collez la "
    "politique dans le vérificateur ou donnez-la à wefirst verify --policy.",
    "Suggested trust policy": "Politique de confiance proposée",
    "Open the verifier": "Ouvrir le vérificateur",
    "Paste a trust policy you got from someone you trust (a charity, a watchdog), or open this "
    "page with #policy=… in its address. It then replaces the key above and requires the "
    "witnesses it names.": "Collez une politique de confiance obtenue auprès de quelqu’un en qui vous avez "
    "confiance (une association, un observatoire), ou ouvrez cette page avec #policy=… dans "
    "son adresse. Elle remplace alors la clé ci-dessus et exige les témoins qu’elle nomme.",
    "Verify": "Vérifier",
    "This check needs JavaScript: it runs in your browser so that you do not have to trust "
    "this server. You can also check the receipt with the command-line tool.": "Cette vérification nécessite JavaScript : elle s’exécute dans votre navigateur pour "
    "que vous n’ayez pas à faire confiance à ce serveur. Vous pouvez aussi vérifier le reçu "
    "avec l’outil en ligne de commande.",
    "Your receipt": "Votre reçu",
    "Unknown receipt": "Reçu inconnu",
    "No counted click or purchase has this receipt. It may not be in the log yet: "
    "entries are added within seconds.": "Aucun clic ni achat comptabilisé ne correspond à ce reçu. Il n’est peut-être pas "
    "encore dans le journal : les entrées y sont ajoutées en quelques secondes.",
    "Result": "Résultat",
    "What the entry says": "Ce que dit l’entrée",
    "Bars: posts per day. Hatched orange: more negative than positive posts that day; blue: "
    "otherwise. Shaded bands: mobilization episodes.": "Barres : publications par jour. Orange hachuré : plus de publications négatives que "
    "positives ce jour-là ; bleu : sinon. Bandes colorées : épisodes de mobilisation.",
    "Counted, not yet in the log": "Compté, pas encore dans le journal",
    "Your click or purchase is recorded; the log adds it within seconds. Reload this page in a "
    "moment.": "Votre clic ou achat est enregistré ; le journal l’ajoute en quelques secondes. "
    "Rechargez cette page dans un instant.",
    # scorecard
    "Promise-keeping per campaign": "Promesses tenues par campagne",
    "Campaign": "Campagne",
    "Share paid and confirmed": "Part versée et confirmée",
    "Share delivered": "Part livrée",
    "If more units were delivered than this campaign's pledges fund: who funded the rest": "Si plus "
    "d’unités ont été livrées que n’en financent les promesses de cette campagne : qui a financé le reste",
    "Publisher": "Éditeur",
    "Clicks counted for this publisher's readers, re-derived from the entries of the public log "
    "(each click entry names the publisher).": "Clics comptés pour les lecteurs de cet éditeur, "
    "recalculés à partir des entrées du journal public (chaque entrée de clic nomme l’éditeur).",
    "Counted clicks": "Clics comptés",
    "Total": "Total",
    "No counted click yet.": "Aucun clic compté pour l’instant.",
    "Derived from the first {n} log entries. Check it yourself:": "Calculé à partir des {n} premières "
    "entrées du journal. Vérifiez vous-même :",
    "delivered beyond this campaign's pledges: funded otherwise": "livrées au-delà des promesses de cette campagne : financées autrement",
    "Days late": "Jours de retard",
    "Public voice": "Voix publique",
    "Posts per day": "Publications par jour",
    "Mean sentiment": "Sentiment moyen",
    "Mobilization episodes": "Épisodes de mobilisation",
    "backlash": "fronde",
    "praise": "éloge",
    "Sample posts": "Exemples de publications",
    "Open accountability cases": "Dossiers de responsabilité ouverts",
    "No open case.": "Aucun dossier ouvert.",
    "No post recorded yet.": "Aucune publication enregistrée pour l’instant.",
    "Posts and sentiment per day": "Publications et sentiment par jour",
    "Posts": "Publications",
    "Sentiment": "Sentiment",
    "Opened": "Ouvert le",
    "Signatures": "Signatures",
    "Answer due": "Réponse attendue",
    "on time": "à l’heure",
    "Oldest unpaid pledge (days)": "Plus ancienne promesse impayée (jours)",
    "Oldest undelivered unit (days)": "Plus ancienne unité non livrée (jours)",
    "Case": "Dossier",
    "unanswered": "sans réponse",
    # sign-in and consoles
    "Email": "Courriel",
    "Password": "Mot de passe",
    "Send me a sign-in link": "M’envoyer un lien de connexion",
    "Or receive a one-time link by email": "Ou recevez un lien à usage unique par courriel",
    "Wrong email or password.": "Courriel ou mot de passe incorrect.",
    "If this address has an account, a sign-in link is on its way.": "Si cette adresse a un compte, un lien de connexion est en route.",
    "This sign-in link is invalid or has expired.": "Ce lien de connexion est invalide ou a expiré.",
    "The form expired; please try again.": "Le formulaire a expiré ; veuillez réessayer.",
    "Brand console": "Console de la marque",
    "Beneficiary console": "Console du bénéficiaire",
    "Publisher console": "Console de l’éditeur",
    "Campaigns": "Campagnes",
    "New campaign": "Nouvelle campagne",
    "Name": "Nom",
    "Create": "Créer",
    "Save": "Enregistrer",
    "Edit": "Modifier",
    "API keys": "Clés d’API",
    "Create a key": "Créer une clé",
    "Copy this key now: it is shown only once.": "Copiez cette clé maintenant : elle n’est affichée qu’une fois.",
    "Connector secrets": "Secrets des connecteurs",
    "Fraud report": "Rapport de fraude",
    "Publishers": "Éditeurs",
    "Open to any verified publisher": "Ouverte à tout éditeur vérifié",
    "yes": "oui",
    "no": "non",
    "Verified": "Vérifié",
    "Counts clicks": "Clics comptés",
    "Withdraw approval": "Retirer l’approbation",
    "Approve": "Approuver",
    "No publisher has joined yet.": "Aucun éditeur n’a encore rejoint la campagne.",
    "Alerts": "Alertes",
    "Balance": "Solde",
    "Settlements to confirm": "Versements à confirmer",
    "Confirm": "Confirmer",
    "Dispute": "Contester",
    "Reason": "Motif",
    "Report a delivery": "Déclarer une livraison",
    "Evidence link": "Lien vers la preuve",
    "Report": "Déclarer",
    "Widget snippet": "Extrait du widget",
    "Clicks and impact per day": "Clics et impact par jour",
    "Clicks": "Clics",
    "Impact": "Impact",
    "Saved.": "Enregistré.",
    "Nothing to show yet.": "Rien à afficher pour l’instant.",
    "Starts": "Début",
    "Ends": "Fin",
    "Cap": "Plafond",
    "Rule": "Règle",
    "Unit": "Unité",
    "Role": "Rôle",
    "Actions": "Actions",
    "Currency": "Devise",
    "Cost per unit": "Coût unitaire",
    "Cost source": "Source du coût",
    "Cost date": "Date du coût",
    "Units per purchase, click or order (or basis points)": "Unités par achat, clic ou commande (ou points de base)",
    "Product codes (SKU patterns, comma-separated)": "Codes produits (motifs de SKU, séparés par des virgules)",
    "Cap per day": "Plafond par jour",
    "revoked": "révoquée",
    "active": "active",
    "paused": "en pause",
    "ended": "terminée",
    "draft": "brouillon",
    "Revoke": "Révoquer",
    "Shops sign their webhooks with a secret; wefirst stores it encrypted and never shows it "
    "again. Add the new secret before retiring the old one: both verify during the change.": "Les boutiques signent leurs webhooks avec un secret ; wefirst le garde chiffré et ne "
    "le montre plus jamais. Ajoutez le nouveau secret avant de retirer l’ancien : les deux "
    "sont acceptés pendant le changement.",
    "Webhook address": "Adresse du webhook",
    "Sales reports": "Relevés de ventes",
    "Fingerprint": "Empreinte",
    "Created": "Créé",
    "Last used": "Dernière utilisation",
    "retired": "retiré",
    "Retire": "Retirer",
    "New secret": "Nouveau secret",
    "Add the secret": "Ajouter le secret",
    "Connect a shop": "Connecter une boutique",
    "Platform": "Plateforme",
    "Shop address or account": "Adresse ou compte de la boutique",
    "Webhook signing secret": "Secret de signature du webhook",
    "Event": "Événement",
    "Attempt": "Tentative",
    "counted": "comptés",
    "refused": "refusés",
    "Reference": "Référence",
    "Note": "Note",
    # the verdict on a promise (web/verdicts.py)
    "Is the promise kept?": "La promesse est-elle tenue ?",
    "Verdict": "Verdict",
    "Promised": "Promis",
    "Owed": "Dû",
    "Paid and confirmed": "Versé et confirmé",
    "Awaiting confirmation": "En attente de confirmation",
    "Disputed": "Contesté",
    "Late": "En retard",
    "On track": "En bonne voie",
    "Kept": "Tenue",
    "Nothing promised yet": "Rien de promis pour l’instant",
    "Reported paid": "Versement déclaré",
    "Delivered (at cost)": "Livré (au coût unitaire)",
    "Promised, paid and delivered over time": "Promis, versé et livré au fil du temps",
    "{n} of {total}": "{n} sur {total}",
    "{paid} of {owed} ({share})": "{paid} sur {owed} ({share})",
    "{amount} (guaranteed minimum)": "{amount} (minimum garanti)",
    "Nothing has been promised yet: no eligible purchase or click so far.": "Rien n’a encore été promis : aucun achat ni clic éligible jusqu’ici.",
    "Late: {amount} was due on {date} and is not reported paid.": "En retard : {amount} étaient dus le {date} et aucun versement n’est déclaré.",
    "Awaiting confirmation: {brand} reports paying {amount}; {beneficiary} has not confirmed it yet.": "En attente de confirmation : {brand} déclare avoir versé {amount} ; {beneficiary} ne l’a pas encore confirmé.",
    "Kept: {owed} paid and confirmed, {units} delivered.": "Tenue : {owed} versés et confirmés, {units} livrés.",
    "On track: {paid} of {owed} owed is paid and confirmed.": "En bonne voie : {paid} sur {owed} dus sont versés et confirmés.",
    "Next payment due on {date}.": "Prochain versement dû le {date}.",
    "The campaign states no payment schedule: everything owed counts as due {days} days after the campaign ends.": "La campagne n’indique pas d’échéancier : tout ce qui est dû est exigible {days} jours après la fin de la campagne.",
    "Payment schedule: everything owed is due {days} days after the campaign ends.": "Échéancier : tout ce qui est dû est à verser {days} jours après la fin de la campagne.",
    "Payment schedule: each month's pledges are due {days} days after the month ends.": "Échéancier : les promesses de chaque mois sont à verser {days} jours après la fin du mois.",
    "Payment schedule: each quarter's pledges are due {days} days after the quarter ends.": "Échéancier : les promesses de chaque trimestre sont à verser {days} jours après la fin du trimestre.",
    "Paid and confirmed, of what is owed": "Versé et confirmé, sur ce qui est dû",
    "Delivered, of what is owed": "Livré, sur ce qui est dû",
    "{amount} late since {date}": "{amount} en retard depuis le {date}",
    "Oldest pledge not yet paid: {days} days": "Plus ancienne promesse non versée : {days} jours",
    "Oldest pledge not yet paid: 1 day": "Plus ancienne promesse non versée : 1 jour",
    # receipts for people (web/receipt_story.py)
    "What your receipt funded": "Ce que votre reçu a financé",
    "Your click funded {what}, promised by {brand} to {beneficiary}.": "Votre clic a financé {what} : une promesse de {brand} à {beneficiary}.",
    "Your purchase funded {what}, promised by {brand} to {beneficiary}.": "Votre achat a financé {what} : une promesse de {brand} à {beneficiary}.",
    "Your purchase was refunded on {date}: the promise it carried ({what}) is cancelled.": "Votre achat a été remboursé le {date} : la promesse qu’il portait ({what}) est annulée.",
    "Your click was cancelled on {date}: the promise it carried ({what}) is cancelled.": "Votre clic a été annulé le {date} : la promesse qu’il portait ({what}) est annulée.",
    "Partly refunded on {date}: {what} still promised.": "Remboursé en partie le {date} : {what} toujours promis.",
    "Paid on {date}, and {beneficiary} confirmed receiving it.": "Versé le {date}, et {beneficiary} a confirmé l’avoir reçu.",
    "{brand} reports paying it on {date}; {beneficiary} has not confirmed it yet.": "{brand} déclare l’avoir versé le {date} ; {beneficiary} ne l’a pas encore confirmé.",
    "Awaiting payment: {brand} has until {date} to pay it.": "En attente de versement : {brand} a jusqu’au {date} pour le verser.",
    "Awaiting payment.": "En attente de versement.",
    "Delivered between {start} and {end}.": "Livré entre le {start} et le {end}.",
    "Not delivered yet.": "Pas encore livré.",
    "A campaign's payments and deliveries are matched to its promises day by day, in the order the promises were made.": "Les versements et livraisons d’une campagne sont rapprochés de ses promesses jour après jour, dans l’ordre où elles ont été faites.",
    "The proof, for those who want it": "La preuve, pour qui veut la vérifier",
    "With JavaScript on, your browser checks by itself that the entry is in the public log and that the log's checkpoint is signed by the published key; a pasted receipt JSON is then never sent to the server.": "Avec JavaScript, votre navigateur vérifie lui-même que l’entrée figure dans le journal public et que le point de contrôle du journal est signé par la clé publiée ; un reçu JSON collé n’est alors jamais envoyé au serveur.",
    "The proof check needs JavaScript: it runs in your browser so that you do not have to trust this server. Without it, this form still tells you what a receipt funded. You can also check the receipt with the command-line tool.": "La vérification de la preuve nécessite JavaScript : elle s’exécute dans votre navigateur pour que vous n’ayez pas à faire confiance à ce serveur. Sans lui, ce formulaire vous dit quand même ce qu’un reçu a financé. Vous pouvez aussi vérifier le reçu avec l’outil en ligne de commande.",
    "Paste the code that starts with rcpt_, the receipt's link, or the receipt (JSON) you were given.": "Collez le code qui commence par rcpt_, le lien du reçu ou le reçu (JSON) que vous avez reçu.",
    "This is not a receipt. Paste the code that starts with rcpt_, the receipt's link, or its JSON.": "Ce n’est pas un reçu. Collez le code qui commence par rcpt_, le lien du reçu ou son JSON.",
    "Position in the log": "Position dans le journal",
    "Impact units": "Unités d’impact",
    # labels for codes (web/labels.py)
    "Campaign published": "Campagne publiée",
    "Campaign changed": "Campagne modifiée",
    "Promise": "Promesse",
    "Refund (promise cancelled)": "Remboursement (promesse annulée)",
    "Payment reported": "Versement déclaré",
    "Payment confirmed": "Versement confirmé",
    "Payment disputed": "Versement contesté",
    "Delivery reported": "Livraison déclarée",
    "Case opened": "Dossier ouvert",
    "Case co-signature milestone": "Palier de cosignatures",
    "Case answered": "Dossier répondu",
    "Case resolved": "Dossier résolu",
    "Case hidden by moderation": "Dossier masqué par la modération",
    "Case left unanswered": "Dossier resté sans réponse",
    "Log handed over to a new key": "Journal transmis à une nouvelle clé",
    "Log started from a previous key": "Journal repris d’une clé précédente",
    "Other": "Autre",
    "refund": "remboursement",
    "order cancelled": "commande annulée",
    "return": "retour",
    "chargeback": "rétrofacturation",
    "Per product bought": "Par produit acheté",
    "Per click": "Par clic",
    "Per order": "Par commande",
    "Share of the sale": "Part de la vente",
    # directory, log explorer, docs (web/routes_directory.py, routes_log.py, logwords.py)
    "1 campaign": "1 campagne",
    "{n} campaigns": "{n} campagnes",
    "All": "Toutes",
    "All beneficiaries": "Tous les bénéficiaires",
    "All brands": "Toutes les marques",
    "All campaigns": "Toutes les campagnes",
    "Beneficiaries": "Bénéficiaires",
    "Filter by status": "Filtrer par statut",
    "Every campaign's promise, and whether it is kept.": "La promesse de chaque campagne, et si elle est tenue.",
    "How well each brand keeps its promises.": "Comment chaque marque tient ses promesses.",
    "The charities that brands' promises fund.": "Les associations que financent les promesses des marques.",
    "Campaigns for this beneficiary": "Campagnes pour ce bénéficiaire",
    "Payments received": "Versements reçus",
    "Brands report each payment; the beneficiary confirms it or disputes it.": "Les marques déclarent chaque versement ; le bénéficiaire le confirme ou le conteste.",
    "Website": "Site web",
    "What brands promised {name}, what they paid and what it delivered.": "Ce que les marques ont promis à {name}, ce qu’elles ont versé et ce qui a été livré.",
    "API documentation": "Documentation de l’API",
    "Brands' social promises, checked in public: what was promised, paid and delivered.": "Les promesses sociales des marques, vérifiées en public : ce qui a été promis, versé et livré.",
    "Every promise, payment and delivery, in a public log anyone can check.": "Chaque promesse, versement et livraison, dans un journal public que chacun peut vérifier.",
    "The log holds 1 entry.": "Le journal contient 1 entrée.",
    "The log holds {n} entries.": "Le journal contient {n} entrées.",
    "Find an entry": "Trouver une entrée",
    "A position in the log (a number), or a receipt's code or link.": "Une position dans le journal (un nombre), ou le code ou le lien d’un reçu.",
    "Type a position in the log (a number), or paste a receipt's code or link.": "Tapez une position dans le journal (un nombre), ou collez le code ou le lien d’un reçu.",
    "No entry in the log carries this receipt yet.": "Aucune entrée du journal ne porte encore ce reçu.",
    "The log has no entry at this position yet.": "Le journal n’a pas encore d’entrée à cette position.",
    "Find": "Trouver",
    "Entries, newest first": "Entrées, les plus récentes d’abord",
    "position": "position",
    "Read more": "En savoir plus",
    "The entry as recorded": "L’entrée telle qu’enregistrée",
    "Newer entries": "Entrées plus récentes",
    "Older entries": "Entrées plus anciennes",
    "Download and check": "Télécharger et vérifier",
    "Signed checkpoint": "Point de contrôle signé",
    "{brand} published the campaign “{name}”.": "{brand} a publié la campagne « {name} ».",
    "{brand} changed the campaign “{name}”.": "{brand} a modifié la campagne « {name} ».",
    "{brand} promised {units} ({amount}) to {beneficiary}.": "{brand} a promis {units} ({amount}) à {beneficiary}.",
    "Refund ({reason}): {units} ({amount}) no longer promised.": "Remboursement ({reason}) : {units} ({amount}) ne sont plus promis.",
    "{brand} reported paying {amount} to {beneficiary}.": "{brand} a déclaré avoir versé {amount} à {beneficiary}.",
    "{beneficiary} confirmed receiving {amount}.": "{beneficiary} a confirmé avoir reçu {amount}.",
    "{beneficiary} disputed a payment of {amount}.": "{beneficiary} a contesté un versement de {amount}.",
    "{beneficiary} reported delivering {units}.": "{beneficiary} a déclaré avoir livré {units}.",
    "A case about {brand} was opened.": "Un dossier concernant {brand} a été ouvert.",
    "A case about {brand} reached {n} co-signatures.": "Un dossier concernant {brand} a atteint {n} cosignatures.",
    "{brand} answered a case.": "{brand} a répondu à un dossier.",
    "A case about {brand} was resolved.": "Un dossier concernant {brand} a été résolu.",
    "A case about {brand} went unanswered past its deadline.": "Un dossier concernant {brand} est resté sans réponse après le délai.",
    # cases on the web (web/routes_cases.py), scorecard summary
    "1 signature": "1 signature",
    "A case very like this one is already open: co-sign it instead.": "Un dossier très proche est déjà ouvert : cosignez-le plutôt.",
    "A complaint asks a brand to do something; praise thanks it. Brands are told, and answer in public.": "Une plainte demande quelque chose à une marque ; un éloge la remercie. La marque est prévenue et répond en public.",
    "Accountability cases": "Dossiers de responsabilité",
    "Address of this case": "Adresse de ce dossier",
    "Answer not accepted": "Réponse non acceptée",
    "Answered by the brand": "La marque a répondu",
    "Campaigns with a late payment: {n}.": "Campagnes avec un versement en retard : {n}.",
    "Cases": "Dossiers",
    "Check your mail: your signature counts once you open the link we sent.": "Consultez vos courriels : votre signature compte dès que vous ouvrez le lien envoyé.",
    "Co-sign": "Cosigner",
    "Commitments": "Engagements",
    "Complaint": "Plainte",
    "Complaints and praise that people hold brands to, with the brands' answers.": "Les plaintes et éloges adressés aux marques, avec leurs réponses.",
    "Complaints: {n}; answered: {answered}; left unanswered past the deadline: {late}.": "Plaintes : {n} ; avec réponse : {answered} ; restées sans réponse après le délai : {late}.",
    "Environment": "Environnement",
    "Evidence: links, one per line (at most {n})": "Preuves : des liens, un par ligne (au plus {n})",
    "Follow its history (Atom feed)": "Suivre son historique (flux Atom)",
    "Health": "Santé",
    "Hidden by moderation": "Masqué par la modération",
    "Honesty of a campaign": "Honnêteté d’une campagne",
    "Keep this code: it is shown only once, and it is how you accept or reject the brand's answer.": "Gardez ce code : il n’est affiché qu’une fois, et c’est avec lui que vous accepterez ou refuserez la réponse de la marque.",
    "Kind of case": "Type de dossier",
    "Moderators hid this case.": "La modération a masqué ce dossier.",
    "No answer yet.": "Pas encore de réponse.",
    "No case matches.": "Aucun dossier ne correspond.",
    "No case yet.": "Aucun dossier pour l’instant.",
    "Open a case": "Ouvrir un dossier",
    "Open a case about this brand": "Ouvrir un dossier sur cette marque",
    "Open the case": "Ouvrir le dossier",
    "Open, awaiting the brand's answer": "Ouvert, en attente de la réponse de la marque",
    "Other cases about this brand": "Autres dossiers sur cette marque",
    "Per public social action": "Par action sociale publique",
    "Praise": "Éloge",
    "Praise cases: {n}.": "Éloges : {n}.",
    "Resolved": "Résolu",
    "Search": "Rechercher",
    "Search its cases": "Chercher parmi ses dossiers",
    "See the open case": "Voir le dossier ouvert",
    "See your case": "Voir votre dossier",
    "Share": "Partager",
    "Signatures towards the next goal": "Signatures vers le prochain objectif",
    "State": "État",
    "Subject": "Sujet",
    "The brand's answers": "Les réponses de la marque",
    "The confirmation e-mail could not be sent; nothing is counted yet. Try again in a few minutes.": "Le courriel de confirmation n’a pas pu être envoyé ; rien n’est encore compté. Réessayez dans quelques minutes.",
    "The opener accepted this answer": "L’auteur du dossier a accepté cette réponse",
    "The opener did not accept this answer": "L’auteur du dossier n’a pas accepté cette réponse",
    "This case takes no more signatures.": "Ce dossier ne prend plus de signatures.",
    "Title (one line)": "Titre (une ligne)",
    "Too many signatures were asked from this address or network just now; try again in an hour.": "Trop de signatures ont été demandées depuis cette adresse ou ce réseau ; réessayez dans une heure.",
    "Type an e-mail address such as name@example.org.": "Tapez une adresse électronique comme nom@exemple.org.",
    "We send you a link; your signature counts once you open it. Your address is never shown.": "Nous vous envoyons un lien ; votre signature compte dès que vous l’ouvrez. Votre adresse n’est jamais affichée.",
    "What happened": "Ce qui s’est passé",
    "What is asked of the brand": "Ce qui est demandé à la marque",
    "What you ask of the brand (for a complaint)": "Ce que vous demandez à la marque (pour une plainte)",
    "Where it stands": "Où il en est",
    "Words in the title": "Mots du titre",
    "Working conditions": "Conditions de travail",
    "Your case is public. The brand is told, and its answer will appear on the case's page.": "Votre dossier est public. La marque est prévenue, et sa réponse apparaîtra sur la page du dossier.",
    "Your e-mail address": "Votre adresse électronique",
    "Your signature could not be asked for.": "Votre signature n’a pas pu être demandée.",
    "due on {date}": "à tenir d’ici le {date}",
    "next goal": "prochain objectif",
    "no answer in time": "pas de réponse dans le délai",
    "the brand did not answer by {date}": "la marque n’a pas répondu avant le {date}",
    "the brand is expected to answer by {date}": "la marque doit répondre d’ici le {date}",
    "was due on {date}": "était à tenir pour le {date}",
    "{brand} has made no public promise and faced no case yet.": "{brand} n’a fait aucune promesse publique et n’a fait l’objet d’aucun dossier.",
    "{brand} owes {owed} across its campaigns; {paid} ({share}) is paid and confirmed.": "{brand} doit {owed} sur l’ensemble de ses campagnes ; {paid} ({share}) sont versés et confirmés.",
    "{n} signatures": "{n} signatures",
    "Choose the brand from the list.": "Choisissez la marque dans la liste.",
    "Choose one of this brand's campaigns, or none.": "Choisissez une campagne de cette marque, ou aucune.",
    "Too many cases were opened from your network just now; try again in an hour.": "Trop de dossiers ont été ouverts depuis votre réseau ; réessayez dans une heure.",
    "The case could not be opened.": "Le dossier n’a pas pu être ouvert.",
    # social actions (issue 16)
    "Did my share count?": "Mon partage a-t-il compté ?",
    "Paste the address of your profile (for a like or a boost on Mastodon), your Bluesky DID (for a like or a repost on Bluesky), or your post's address (for a post with the hashtag). Your browser computes the SHA-256 commitment the log carries; only that commitment is sent, never the address.": "Collez l’adresse de votre profil (pour un « j’aime » ou un boost sur Mastodon), votre DID Bluesky (pour un « j’aime » ou un repartage sur Bluesky), ou l’adresse de votre publication (pour une publication avec le hashtag). Votre navigateur calcule l’engagement SHA-256 que porte le journal ; seul cet engagement est envoyé, jamais l’adresse.",
    "Your profile, DID or post": "Votre profil, DID ou publication",
    "Check": "Vérifier",
    "Public social actions counted so far": "Actions sociales publiques comptées à ce jour",
    "Network": "Réseau",
    "Action": "Action",
    "Counted": "Comptées",
    "Withdrawn": "Retirées",
    "Refused": "Refusées",
    "This check runs in your browser and needs JavaScript; wefirst verify social does the same from a terminal.": "Cette vérification s’exécute dans votre navigateur et demande JavaScript ; wefirst verify social fait de même depuis un terminal.",
    "Demo outbox": "Boîte d’envoi de la démo",
    "Demo only: the mails this demo would have sent, newest first, so you can follow their links. A real deployment sends them and has no such page.": "Démo uniquement : les courriels que cette démo aurait envoyés, les plus récents d’abord, pour que vous puissiez suivre leurs liens. Un vrai déploiement les envoie et n’a pas cette page.",
    "To": "À",
    "No mail sent yet.": "Aucun courriel envoyé pour l’instant.",
}


def french_typography(text: str) -> str:
    """A no-break space before : ; ? ! and inside « », as French typography wants, so a
    line never starts with a lone colon (the catalogue is written with plain spaces)."""
    return re.sub(r" ([:;?!»])", "\u00a0\\1", text).replace("« ", "«\u00a0")


_CATALOGS: dict[str, dict[str, str]] = {
    "en": {},
    "fr": {key: french_typography(value) for key, value in FR.items()},
}


def negotiate(param: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Explicit choice first (the switch, then the remembered cookie), then the browser's
    preference order with q-values, then English."""
    for explicit in (param, cookie):
        if explicit and explicit.lower()[:2] in LOCALES:
            return explicit.lower()[:2]
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        quality = 1.0
        for param_piece in pieces[1:]:
            key, _, value = param_piece.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag in LOCALES and quality > 0:
            candidate = (-quality, position, tag)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else DEFAULT_LOCALE


@dataclass(frozen=True)
class Translator:
    """Everything a template needs to speak one locale."""

    locale: str

    def gettext(self, message: str) -> str:
        return _CATALOGS.get(self.locale, {}).get(message, message)

    @property
    def colon(self) -> str:
        """ ":" in English, " :" (no-break space first) in French typography."""
        return "\u00a0:" if self.locale == "fr" else ":"

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount: int, currency: str) -> str:
        """Integer minor units → the locale's currency format, exactly (Decimal, no floats)."""
        value = Decimal(amount).scaleb(-exponent(currency))
        return format_currency(value, currency, locale=self.locale)

    def percent(self, numerator: int, denominator: int) -> str:
        if denominator <= 0:
            return "—"
        # one decimal of a percent at most, in the locale's own pattern ("66,7 %", "66.7%")
        share = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001"))
        return format_percent(share.normalize(), locale=self.locale, decimal_quantization=False)

    def date(self, value: date | datetime | None) -> str:
        """ "Nov 26, 2026"; in French the month in full and the first of the month as an
        ordinal, as French typography wants ("1er décembre 2026", "26 novembre 2026")."""
        if value is None:
            return "—"
        if self.locale == "fr":
            text = format_date(value, format="d MMMM y", locale="fr")
            return "1er" + text[1:] if text.startswith("1 ") else text
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", locale=self.locale)

    def language_name(self, code: str) -> str:
        """The name of a language in that language ("Français"), as switches should show it."""
        return str(Locale.parse(code).get_display_name(code)).capitalize()

    @property
    def functions(self) -> dict[str, Callable[..., str]]:
        return {
            "_": self.gettext,
            "fmt_number": self.number,
            "fmt_money": self.money,
            "fmt_percent": self.percent,
            "fmt_date": self.date,
            "fmt_datetime": self.datetime,
        }
