<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About Penser</source>
        <translation>À propos de Penser</translation>
    </message>
    <message>
        <source>Penser %1</source>
        <translation>Penser %1</translation>
    </message>
    <message>
        <source>Chat with DeepSeek R1 distilled models offline. The model runs on this computer and every conversation, with the model&apos;s thinking, stays on its disk.</source>
        <translation>Discutez hors ligne avec les modèles distillés de DeepSeek R1. Le modèle tourne sur cet ordinateur, et chaque conversation, réflexion du modèle comprise, reste sur son disque.</translation>
    </message>
</context>
<context>
    <name>BranchSwitcher</name>
    <message>
        <source>Version %1 of %2</source>
        <translation>Version %1 sur %2</translation>
    </message>
    <message>
        <source>Previous version</source>
        <translation>Version précédente</translation>
    </message>
    <message>
        <source>%1/%2</source>
        <translation>%1/%2</translation>
    </message>
    <message>
        <source>Next version</source>
        <translation>Version suivante</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>Conversation</source>
        <translation>Conversation</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Messages</translation>
    </message>
    <message>
        <source>Jump to latest ↓</source>
        <translation>Aller au plus récent ↓</translation>
    </message>
    <message>
        <source>Jump to the latest message</source>
        <translation>Aller au dernier message</translation>
    </message>
</context>
<context>
    <name>CodeBlock</name>
    <message>
        <source>Code block, %1</source>
        <translation>Bloc de code, %1</translation>
    </message>
    <message>
        <source>Code block</source>
        <translation>Bloc de code</translation>
    </message>
    <message>
        <source>code</source>
        <translation>code</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>Copié</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copier</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>Copier le code</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Message composer</source>
        <translation>Zone de saisie du message</translation>
    </message>
    <message>
        <source>Ask anything. Enter sends, Shift+Enter adds a line.</source>
        <translation>Demandez ce que vous voulez. Entrée envoie, Maj+Entrée ajoute une ligne.</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>Envoyer le message</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Arrêter</translation>
    </message>
    <message>
        <source>Stop generating</source>
        <translation>Arrêter la génération</translation>
    </message>
</context>
<context>
    <name>ConversationDelegate</name>
    <message>
        <source>%1, pinned</source>
        <translation>%1, épinglée</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>Conversation title</source>
        <translation>Titre de la conversation</translation>
    </message>
    <message>
        <source>Unpin</source>
        <translation>Désépingler</translation>
    </message>
    <message>
        <source>Pin</source>
        <translation>Épingler</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>Renommer</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Supprimer</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Ouvrir</translation>
    </message>
</context>
<context>
    <name>EmptyState</name>
    <message>
        <source>Get started</source>
        <translation>Premiers pas</translation>
    </message>
    <message>
        <source>1.1 GB</source>
        <translation>1,1&#xa0;Go</translation>
    </message>
    <message>
        <source>about 2 GB of RAM</source>
        <translation>environ 2&#xa0;Go de mémoire vive</translation>
    </message>
    <message>
        <source>fast on any laptop</source>
        <translation>rapide sur n’importe quel portable</translation>
    </message>
    <message>
        <source>4.7 GB</source>
        <translation>4,7&#xa0;Go</translation>
    </message>
    <message>
        <source>about 6 GB of RAM</source>
        <translation>environ 6&#xa0;Go de mémoire vive</translation>
    </message>
    <message>
        <source>4.9 GB</source>
        <translation>4,9&#xa0;Go</translation>
    </message>
    <message>
        <source>about 7 GB of RAM</source>
        <translation>environ 7&#xa0;Go de mémoire vive</translation>
    </message>
    <message>
        <source>5.0 GB</source>
        <translation>5,0&#xa0;Go</translation>
    </message>
    <message>
        <source>the newest, strongest of these</source>
        <translation>le plus récent et le plus fort</translation>
    </message>
    <message>
        <source>9.0 GB</source>
        <translation>9,0&#xa0;Go</translation>
    </message>
    <message>
        <source>about 12 GB of RAM</source>
        <translation>environ 12&#xa0;Go de mémoire vive</translation>
    </message>
    <message>
        <source>best answers, slower</source>
        <translation>meilleures réponses, plus lent</translation>
    </message>
    <message>
        <source>Chat with DeepSeek R1, offline</source>
        <translation>Discutez avec DeepSeek R1, hors ligne</translation>
    </message>
    <message>
        <source>Penser runs the model on this computer. Nothing you write leaves it. To begin, open a GGUF file of one of the R1 distilled models.</source>
        <translation>Penser fait tourner le modèle sur cet ordinateur. Rien de ce que vous écrivez n’en sort. Pour commencer, ouvrez un fichier GGUF de l’un des modèles distillés de R1.</translation>
    </message>
    <message>
        <source>Open GGUF file…</source>
        <translation>Ouvrir un fichier GGUF…</translation>
    </message>
    <message>
        <source>Open a GGUF model file</source>
        <translation>Ouvrir un fichier de modèle GGUF</translation>
    </message>
    <message>
        <source>or press Ctrl+O, or drop a .gguf file onto this window</source>
        <translation>ou appuyez sur Ctrl+O, ou déposez un fichier .gguf sur cette fenêtre</translation>
    </message>
    <message>
        <source>Which file to get</source>
        <translation>Quel fichier télécharger</translation>
    </message>
    <message>
        <source>Download one of these as a Q4_K_M GGUF file from a model hub (search for its name with “GGUF”). A smaller model answers faster; a larger one reasons better.</source>
        <translation>Téléchargez l’un de ces modèles en fichier GGUF Q4_K_M depuis un site de modèles (cherchez son nom suivi de «&#xa0;GGUF&#xa0;»). Un petit modèle répond plus vite&#x202f;; un grand raisonne mieux.</translation>
    </message>
    <message>
        <source>%1, %2 file, needs %3</source>
        <translation>%1, fichier de %2, demande %3</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Where to put it</source>
        <translation>Où le mettre</translation>
    </message>
    <message>
        <source>Anywhere you like, for example a “Models” folder in your home folder. Penser reads the file where it is and remembers it in the recent models list; it makes no copy.</source>
        <translation>Où vous voulez, par exemple dans un dossier «&#xa0;Modèles&#xa0;» de votre dossier personnel. Penser lit le fichier là où il se trouve et le garde dans la liste des modèles récents&#x202f;; il n’en fait aucune copie.</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Penser conversations</source>
        <translation>Conversations Penser</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>Conversation</translation>
    </message>
    <message>
        <source>Export all conversations</source>
        <translation>Exporter toutes les conversations</translation>
    </message>
    <message>
        <source>Export this conversation</source>
        <translation>Exporter cette conversation</translation>
    </message>
    <message>
        <source>%1 (*.%2)</source>
        <translation>%1 (*.%2)</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>Include the model&apos;s thinking</source>
        <translation>Inclure la réflexion du modèle</translation>
    </message>
    <message>
        <source>Every conversation goes into this one file.</source>
        <translation>Toutes les conversations vont dans ce seul fichier.</translation>
    </message>
    <message>
        <source>Save to</source>
        <translation>Enregistrer sous</translation>
    </message>
    <message>
        <source>File to export to</source>
        <translation>Fichier où exporter</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Choisir…</translation>
    </message>
    <message>
        <source>Choose the file to export to</source>
        <translation>Choisir le fichier où exporter</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Exporter</translation>
    </message>
</context>
<context>
    <name>HeaderBar</name>
    <message>
        <source>Loading… %1%</source>
        <translation>Chargement… %1&#xa0;%</translation>
    </message>
    <message>
        <source>Model failed to load</source>
        <translation>Échec du chargement du modèle</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>Aucun modèle</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>Modèle&#xa0;: %1</translation>
    </message>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>Open a model (Ctrl+O)</source>
        <translation>Ouvrir un modèle (Ctrl+O)</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>Menu</translation>
    </message>
    <message>
        <source>Open model…</source>
        <translation>Ouvrir un modèle…</translation>
    </message>
    <message>
        <source>Model details…</source>
        <translation>Détails du modèle…</translation>
    </message>
    <message>
        <source>Export this conversation…</source>
        <translation>Exporter cette conversation…</translation>
    </message>
    <message>
        <source>Export all conversations…</source>
        <translation>Exporter toutes les conversations…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Paramètres…</translation>
    </message>
    <message>
        <source>About Penser</source>
        <translation>À propos de Penser</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quitter</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Penser</source>
        <translation>Penser</translation>
    </message>
    <message>
        <source>%1 — Penser</source>
        <translation>%1 — Penser</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>Ouvrir un modèle GGUF</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>Modèles GGUF (*.gguf)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>Drop to open this model</source>
        <translation>Déposez pour ouvrir ce modèle</translation>
    </message>
</context>
<context>
    <name>MessageActions</name>
    <message>
        <source>Copy</source>
        <translation>Copier</translation>
    </message>
    <message>
        <source>Copy the answer</source>
        <translation>Copier la réponse</translation>
    </message>
    <message>
        <source>Copy the message</source>
        <translation>Copier le message</translation>
    </message>
    <message>
        <source>Copy with thinking</source>
        <translation>Copier avec la réflexion</translation>
    </message>
    <message>
        <source>Copy the answer with its thinking</source>
        <translation>Copier la réponse avec sa réflexion</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>Régénérer</translation>
    </message>
    <message>
        <source>Regenerate the answer</source>
        <translation>Régénérer la réponse</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Modifier</translation>
    </message>
    <message>
        <source>Edit and resend the question</source>
        <translation>Modifier et renvoyer la question</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Supprimer</translation>
    </message>
    <message>
        <source>Delete the message</source>
        <translation>Supprimer le message</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <source>Stopped</source>
        <translation>Arrêtée</translation>
    </message>
    <message>
        <source>Interrupted: the answer was cut off before it finished.</source>
        <translation>Interrompue&#xa0;: la réponse a été coupée avant sa fin.</translation>
    </message>
    <message>
        <source>The answer failed.</source>
        <translation>La réponse a échoué.</translation>
    </message>
    <message>
        <source>You: %1</source>
        <translation>Vous&#xa0;: %1</translation>
    </message>
    <message>
        <source>Penser: %1</source>
        <translation>Penser&#xa0;: %1</translation>
    </message>
    <message>
        <source>Edit the question</source>
        <translation>Modifier la question</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <source>Send the edited question as a new version</source>
        <translation>Envoyer la question modifiée comme nouvelle version</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Waiting for the model</source>
        <translation>En attente du modèle</translation>
    </message>
</context>
<context>
    <name>ModelDialog</name>
    <message>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <source>No model is loaded. Open a GGUF file of a DeepSeek R1 distilled model.</source>
        <translation>Aucun modèle n’est chargé. Ouvrez un fichier GGUF d’un modèle distillé de DeepSeek R1.</translation>
    </message>
    <message>
        <source>Open GGUF file…</source>
        <translation>Ouvrir un fichier GGUF…</translation>
    </message>
    <message>
        <source>Open a GGUF model file</source>
        <translation>Ouvrir un fichier de modèle GGUF</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Recharger</translation>
    </message>
    <message>
        <source>Reload the model with the current settings</source>
        <translation>Recharger le modèle avec les paramètres actuels</translation>
    </message>
    <message>
        <source>Load the model again, with the backend and context size from the settings</source>
        <translation>Charger de nouveau le modèle, avec le moteur et la taille de contexte des paramètres</translation>
    </message>
    <message>
        <source>Unload</source>
        <translation>Décharger</translation>
    </message>
    <message>
        <source>Unload the model</source>
        <translation>Décharger le modèle</translation>
    </message>
</context>
<context>
    <name>ModelFacts</name>
    <message>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>Quantification</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>Taille du fichier</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>Contexte</translation>
    </message>
    <message>
        <source>%L1 tokens (trained for %L2)</source>
        <translation>%L1 jetons (entraîné sur %L2)</translation>
    </message>
    <message>
        <source>%L1 tokens</source>
        <translation>%L1 jetons</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>Moteur de calcul</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Fichier</translation>
    </message>
</context>
<context>
    <name>ModelStatus</name>
    <message>
        <source>Loading the model…</source>
        <translation>Chargement du modèle…</translation>
    </message>
    <message>
        <source>Loading progress: %1%</source>
        <translation>Progression du chargement&#xa0;: %1&#xa0;%</translation>
    </message>
    <message>
        <source>%1%</source>
        <translation>%1&#xa0;%</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Cancel loading</source>
        <translation>Annuler le chargement</translation>
    </message>
    <message>
        <source>Could not load the model: %1</source>
        <translation>Impossible de charger le modèle&#xa0;: %1</translation>
    </message>
</context>
<context>
    <name>NewChatHint</name>
    <message>
        <source>Ask DeepSeek R1 anything</source>
        <translation>Demandez ce que vous voulez à DeepSeek R1</translation>
    </message>
    <message>
        <source>%1 is ready. It thinks before it answers; its thinking appears above each answer and folds away when the answer starts.</source>
        <translation>%1 est prêt. Il réfléchit avant de répondre&#x202f;; sa réflexion s’affiche au-dessus de chaque réponse et se replie dès que la réponse commence.</translation>
    </message>
</context>
<context>
    <name>RecentModels</name>
    <message>
        <source>Recent models</source>
        <translation>Modèles récents</translation>
    </message>
    <message>
        <source>%1 GB</source>
        <translation>%1&#xa0;Go</translation>
    </message>
    <message>
        <source>Open %1</source>
        <translation>Ouvrir %1</translation>
    </message>
    <message>
        <source>%1 (file not found)</source>
        <translation>%1 (fichier introuvable)</translation>
    </message>
    <message>
        <source>%1 · loaded</source>
        <translation>%1 · chargé</translation>
    </message>
    <message>
        <source>Not found: %1</source>
        <translation>Introuvable&#xa0;: %1</translation>
    </message>
    <message>
        <source>Remove from the list</source>
        <translation>Retirer de la liste</translation>
    </message>
</context>
<context>
    <name>SearchHitDelegate</name>
    <message>
        <source>%1: %2</source>
        <translation>%1&#xa0;: %2</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>in thinking</source>
        <translation>dans la réflexion</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>Choose the folder for your conversations</source>
        <translation>Choisir le dossier de vos conversations</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>Réponses</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Température</translation>
    </message>
    <message>
        <source>Randomness. DeepSeek recommends 0.5–0.7 for R1; lower repeats itself, higher rambles.</source>
        <translation>Part de hasard. DeepSeek conseille 0,5 à 0,7 pour R1&#x202f;; plus bas, le modèle se répète, plus haut, il divague.</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Sample only from the most likely tokens that together reach this probability.</source>
        <translation>Ne tirer que parmi les jetons les plus probables qui, ensemble, atteignent cette probabilité.</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Sample only from this many most likely tokens; off considers them all.</source>
        <translation>Ne tirer que parmi ce nombre de jetons les plus probables&#x202f;; désactivé, tous sont pris en compte.</translation>
    </message>
    <message>
        <source>off</source>
        <translation>désactivé</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Drop tokens less likely than this fraction of the most likely one; 0 is off.</source>
        <translation>Écarter les jetons moins probables que cette fraction du plus probable&#x202f;; 0 désactive.</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>Pénalité de répétition</translation>
    </message>
    <message>
        <source>1.00 is off. R1 does best without one.</source>
        <translation>1,00 la désactive. R1 donne le meilleur sans.</translation>
    </message>
    <message>
        <source>Length and thinking</source>
        <translation>Longueur et réflexion</translation>
    </message>
    <message>
        <source>Maximum tokens</source>
        <translation>Jetons au maximum</translation>
    </message>
    <message>
        <source>The longest answer, thinking included; “until full” stops only when the context is full.</source>
        <translation>La réponse la plus longue, réflexion comprise&#x202f;; «&#xa0;jusqu’à saturation&#xa0;» ne s’arrête que lorsque le contexte est plein.</translation>
    </message>
    <message>
        <source>until full</source>
        <translation>jusqu’à saturation</translation>
    </message>
    <message>
        <source>Context size</source>
        <translation>Taille du contexte</translation>
    </message>
    <message>
        <source>Tokens the model keeps in view. Automatic picks what fits this computer&apos;s memory. Applies when the model is loaded.</source>
        <translation>Nombre de jetons que le modèle garde en vue. Automatique choisit ce que permet la mémoire de cet ordinateur. S’applique au chargement du modèle.</translation>
    </message>
    <message>
        <source>automatic</source>
        <translation>automatique</translation>
    </message>
    <message>
        <source>Thinking budget</source>
        <translation>Budget de réflexion</translation>
    </message>
    <message>
        <source>Tokens the model may spend thinking before it must answer; “no limit” lets it think as long as it needs.</source>
        <translation>Jetons que le modèle peut consacrer à la réflexion avant de devoir répondre&#x202f;; «&#xa0;sans limite&#xa0;» le laisse réfléchir aussi longtemps qu’il le faut.</translation>
    </message>
    <message>
        <source>no limit</source>
        <translation>sans limite</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>Invite système</translation>
    </message>
    <message>
        <source>Empty by default, as DeepSeek advises for R1: put instructions in your message instead.</source>
        <translation>Vide par défaut, comme DeepSeek le conseille pour R1&#xa0;: mettez plutôt vos consignes dans votre message.</translation>
    </message>
    <message>
        <source>No system prompt</source>
        <translation>Aucune invite système</translation>
    </message>
    <message>
        <source>Hardware</source>
        <translation>Matériel</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>Moteur de calcul</translation>
    </message>
    <message>
        <source>Automatic (GPU when usable)</source>
        <translation>Automatique (GPU si utilisable)</translation>
    </message>
    <message>
        <source>Vulkan (GPU)</source>
        <translation>Vulkan (GPU)</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Par défaut</translation>
    </message>
    <message>
        <source>%1 (not usable: %2)</source>
        <translation>%1 (inutilisable&#xa0;: %2)</translation>
    </message>
    <message>
        <source>%1 · %2 (%3 free)</source>
        <translation>%1 · %2 (%3 libres)</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Load the model again to apply these changes.</source>
        <translation>Rechargez le modèle pour appliquer ces changements.</translation>
    </message>
    <message>
        <source>Reload now</source>
        <translation>Recharger maintenant</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>Apparence</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>Thème</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>Comme le système</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Clair</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Sombre</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>Stockage</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>Dossier de données</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>Changer…</translation>
    </message>
    <message>
        <source>Change the data folder</source>
        <translation>Changer le dossier de données</translation>
    </message>
    <message>
        <source>Where conversations.sqlite is kept. A new folder is used the next time Penser starts.</source>
        <translation>L’emplacement de conversations.sqlite. Un nouveau dossier est utilisé au prochain démarrage de Penser.</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>Rétablir les valeurs par défaut</translation>
    </message>
    <message>
        <source>Reset every setting to its default</source>
        <translation>Rétablir chaque paramètre à sa valeur par défaut</translation>
    </message>
    <message>
        <source>Prompt batch (GPU)</source>
        <translation>Lot de jetons (GPU)</translation>
    </message>
    <message>
        <source>Prompt tokens the GPU reads in one step. Smaller: Stop takes effect sooner during a long message; larger: fewer steps. Automatic: 64 on a GPU, 32 on a software renderer. Applies when the model is loaded again.</source>
        <translation>Jetons de la demande que le GPU lit en une étape. Plus petit&#xa0;: Arrêter agit plus tôt pendant un long message&#x202f;; plus grand&#xa0;: moins d’étapes. Automatique&#xa0;: 64 sur un GPU, 32 sur un moteur de rendu logiciel. S’applique au prochain chargement du modèle.</translation>
    </message>
</context>
<context>
    <name>Sidebar</name>
    <message>
        <source>Conversations</source>
        <translation>Conversations</translation>
    </message>
    <message>
        <source>+  New chat</source>
        <translation>+  Nouvelle conversation</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>New chat (Ctrl+N)</source>
        <translation>Nouvelle conversation (Ctrl+N)</translation>
    </message>
    <message>
        <source>Search conversations (Ctrl+F)</source>
        <translation>Rechercher (Ctrl+F)</translation>
    </message>
    <message>
        <source>Search conversations</source>
        <translation>Rechercher dans les conversations</translation>
    </message>
    <message>
        <source>Your conversations will appear here.</source>
        <translation>Vos conversations apparaîtront ici.</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>Résultats de la recherche</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>Recherche…</translation>
    </message>
    <message>
        <source>No message matches “%1”.</source>
        <translation>Aucun message ne correspond à «&#xa0;%1&#xa0;».</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 jetons/s</translation>
    </message>
    <message>
        <source>%1 s to first token</source>
        <translation>%1&#xa0;s avant le premier jeton</translation>
    </message>
    <message>
        <source>Generation status</source>
        <translation>État de la génération</translation>
    </message>
    <message>
        <source>Reading the prompt</source>
        <translation>Lecture de la demande</translation>
    </message>
    <message>
        <source>Prompt reading progress</source>
        <translation>Progression de la lecture de la demande</translation>
    </message>
    <message>
        <source>Context %1 / %2</source>
        <translation>Contexte %1 / %2</translation>
    </message>
    <message>
        <source>Context used: %1 percent</source>
        <translation>Contexte utilisé&#xa0;: %1&#xa0;%</translation>
    </message>
</context>
<context>
    <name>ThinkingBlock</name>
    <message>
        <source>Thinking… %1 s</source>
        <translation>Réflexion… %1&#xa0;s</translation>
    </message>
    <message numerus="yes">
        <source>Thought stopped after %n second(s)</source>
        <translation>
            <numerusform>Réflexion arrêtée après %n seconde</numerusform>
            <numerusform>Réflexion arrêtée après %n secondes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Thinking interrupted after %n second(s)</source>
        <translation>
            <numerusform>Réflexion interrompue après %n seconde</numerusform>
            <numerusform>Réflexion interrompue après %n secondes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Thought for %n second(s)</source>
        <translation>
            <numerusform>A réfléchi pendant %n seconde</numerusform>
            <numerusform>A réfléchi pendant %n secondes</numerusform>
        </translation>
    </message>
    <message>
        <source>Hide the model&apos;s thinking</source>
        <translation>Masquer la réflexion du modèle</translation>
    </message>
    <message>
        <source>Show the model&apos;s thinking</source>
        <translation>Afficher la réflexion du modèle</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>Réflexion</translation>
    </message>
</context>
<context>
    <name>UndoBar</name>
    <message>
        <source>Deleted “%1”</source>
        <translation>«&#xa0;%1&#xa0;» supprimée</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Undo delete</source>
        <translation>Annuler la suppression</translation>
    </message>
</context>
<context>
    <name>penser::gui::ChatController</name>
    <message>
        <source>Open a model to start chatting.</source>
        <translation>Ouvrez un modèle pour commencer à discuter.</translation>
    </message>
    <message>
        <source>Stop the answer first.</source>
        <translation>Arrêtez d’abord la réponse.</translation>
    </message>
    <message>
        <source>Could not open the conversation: %1</source>
        <translation>Impossible d’ouvrir la conversation&#xa0;: %1</translation>
    </message>
    <message>
        <source>The conversation could not be saved: %1</source>
        <translation>La conversation n’a pas pu être enregistrée&#xa0;: %1</translation>
    </message>
    <message>
        <source>The answer could not be saved yet: %1</source>
        <translation>La réponse n’a pas encore pu être enregistrée&#xa0;: %1</translation>
    </message>
    <message>
        <source>The model stopped with an error.</source>
        <translation>Le modèle s’est arrêté sur une erreur.</translation>
    </message>
    <message>
        <source>The answer could not be saved: %1</source>
        <translation>La réponse n’a pas pu être enregistrée&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not show that version: %1</source>
        <translation>Impossible d’afficher cette version&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not delete the message: %1</source>
        <translation>Impossible de supprimer le message&#xa0;: %1</translation>
    </message>
    <message>
        <source>The GPU stopped responding: the model is loading again…</source>
        <translation>Le GPU a cessé de répondre&#xa0;: le modèle se recharge…</translation>
    </message>
</context>
<context>
    <name>penser::gui::ConversationListModel</name>
    <message>
        <source>New chat</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>Pinned</source>
        <translation>Épinglées</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Aujourd’hui</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>Hier</translation>
    </message>
    <message>
        <source>Previous 7 days</source>
        <translation>7 derniers jours</translation>
    </message>
    <message>
        <source>Older</source>
        <translation>Plus anciennes</translation>
    </message>
    <message>
        <source>Could not list the conversations: %1</source>
        <translation>Impossible d’afficher la liste des conversations&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not rename the conversation: %1</source>
        <translation>Impossible de renommer la conversation&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not pin the conversation: %1</source>
        <translation>Impossible d’épingler la conversation&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not delete the conversation: %1</source>
        <translation>Impossible de supprimer la conversation&#xa0;: %1</translation>
    </message>
</context>
<context>
    <name>penser::gui::EngineWorker</name>
    <message>
        <source>This model needs about %1 of memory (%2 of weights and %3 for a context of %4 tokens), but this computer has %5. Choose a smaller model or quantization (for example a 1.5B or 7B distill in Q4_K_M), or a smaller context size in the settings.</source>
        <translation>Ce modèle demande environ %1 de mémoire (%2 de poids et %3 pour un contexte de %4 jetons), mais cet ordinateur n’a que %5. Choisissez un modèle ou une quantification plus petits (par exemple un distillé 1.5B ou 7B en Q4_K_M), ou une taille de contexte plus petite dans les paramètres.</translation>
    </message>
    <message>
        <source>%1 is not a GGUF model file (%2). Penser opens .gguf files such as DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf.</source>
        <translation>%1 n’est pas un fichier de modèle GGUF (%2). Penser ouvre les fichiers .gguf tels que DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf.</translation>
    </message>
    <message>
        <source>%1 is damaged or incomplete (%2). Download it again.</source>
        <translation>%1 est endommagé ou incomplet (%2). Téléchargez-le de nouveau.</translation>
    </message>
    <message>
        <source>%1 cannot be run: %2. Penser runs the DeepSeek R1 distilled models (qwen2, llama and qwen3 architectures).</source>
        <translation>%1 ne peut pas être exécuté&#xa0;: %2. Penser exécute les modèles distillés de DeepSeek R1 (architectures qwen2, llama et qwen3).</translation>
    </message>
    <message>
        <source>%1 cannot be loaded: %2.</source>
        <translation>%1 ne peut pas être chargé&#xa0;: %2.</translation>
    </message>
    <message>
        <source>Loading was cancelled.</source>
        <translation>Le chargement a été annulé.</translation>
    </message>
    <message>
        <source>Opening the file…</source>
        <translation>Ouverture du fichier…</translation>
    </message>
    <message>
        <source>The file %1 does not exist.</source>
        <translation>Le fichier %1 n’existe pas.</translation>
    </message>
    <message>
        <source>Unknown backend %1: choose auto, vulkan or cpu.</source>
        <translation>Moteur de calcul inconnu %1&#xa0;: choisissez auto, vulkan ou cpu.</translation>
    </message>
    <message>
        <source>Checking the model…</source>
        <translation>Vérification du modèle…</translation>
    </message>
    <message>
        <source>Looking for a GPU…</source>
        <translation>Recherche d’un GPU…</translation>
    </message>
    <message>
        <source>the only Vulkan device, %1, is a software renderer</source>
        <translation>le seul périphérique Vulkan, %1, est un rendu logiciel</translation>
    </message>
    <message>
        <source>The Vulkan backend cannot be used: %1. Choose the CPU backend in the settings.</source>
        <translation>Le moteur Vulkan est inutilisable&#xa0;: %1. Choisissez le moteur CPU dans les paramètres.</translation>
    </message>
    <message>
        <source>No usable Vulkan GPU, running on the CPU: %1.</source>
        <translation>Aucun GPU Vulkan utilisable, calcul sur le CPU&#xa0;: %1.</translation>
    </message>
    <message>
        <source>the model and its context need %1 but %2 has %3 usable</source>
        <translation>le modèle et son contexte demandent %1, mais %2 n’a que %3 utilisables</translation>
    </message>
    <message>
        <source>The model does not fit in the GPU&apos;s memory: %1. Choose a smaller model or context, or the CPU backend.</source>
        <translation>Le modèle ne tient pas dans la mémoire du GPU&#xa0;: %1. Choisissez un modèle ou un contexte plus petit, ou le moteur CPU.</translation>
    </message>
    <message>
        <source>The model does not fit in the GPU&apos;s memory (%1): running on the CPU.</source>
        <translation>Le modèle ne tient pas dans la mémoire du GPU (%1)&#xa0;: calcul sur le CPU.</translation>
    </message>
    <message>
        <source>%1 of its %2 is free now: other programs are using the rest</source>
        <translation>%1 de ses %2 sont libres en ce moment&#xa0;: d’autres programmes utilisent le reste</translation>
    </message>
    <message>
        <source>The model does not fit in the GPU&apos;s free memory: %1. Close programs that use the GPU (games, browsers, other AI apps), or choose a smaller model or context, or the CPU backend.</source>
        <translation>Le modèle ne tient pas dans la mémoire libre du GPU&#xa0;: %1. Fermez les programmes qui utilisent le GPU (jeux, navigateurs, autres applications d’IA), ou choisissez un modèle ou un contexte plus petit, ou le moteur CPU.</translation>
    </message>
    <message>
        <source>The GPU&apos;s memory is over-committed: Penser uses %1 but the driver now allows it %2, so answers may be slow. Close programs that use the GPU, or choose a smaller context.</source>
        <translation>La mémoire du GPU est surchargée&#xa0;: Penser en utilise %1, mais le pilote ne lui en accorde plus que %2, si bien que les réponses peuvent être lentes. Fermez les programmes qui utilisent le GPU, ou choisissez un contexte plus petit.</translation>
    </message>
    <message>
        <source>Reading the weights…</source>
        <translation>Lecture des poids…</translation>
    </message>
    <message>
        <source>Uploading the weights to the GPU…</source>
        <translation>Envoi des poids vers le GPU…</translation>
    </message>
    <message>
        <source>The Vulkan backend failed: %1.</source>
        <translation>Le moteur Vulkan a échoué&#xa0;: %1.</translation>
    </message>
    <message>
        <source>The GPU could not be used (%1): running on the CPU.</source>
        <translation>Le GPU n’a pas pu être utilisé (%1)&#xa0;: calcul sur le CPU.</translation>
    </message>
    <message>
        <source>Preparing the CPU backend…</source>
        <translation>Préparation du moteur CPU…</translation>
    </message>
    <message>
        <source>The CPU backend could not start: %1.</source>
        <translation>Le moteur CPU n’a pas pu démarrer&#xa0;: %1.</translation>
    </message>
    <message numerus="yes">
        <source>%n thread(s)</source>
        <translation>
            <numerusform>%n thread</numerusform>
            <numerusform>%n threads</numerusform>
        </translation>
    </message>
    <message>
        <source>Preparing the chat…</source>
        <translation>Préparation de la conversation…</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Prêt</translation>
    </message>
    <message>
        <source>No model is loaded: open a GGUF model first.</source>
        <translation>Aucun modèle n’est chargé&#xa0;: ouvrez d’abord un modèle GGUF.</translation>
    </message>
    <message>
        <source>The GPU stopped responding (its driver reset it). Penser is reloading the model; press Regenerate to try again.</source>
        <translation>Le GPU a cessé de répondre (son pilote l’a réinitialisé). Penser recharge le modèle&#x202f;; appuyez sur Régénérer pour réessayer.</translation>
    </message>
    <message>
        <source>The GPU stopped responding (its driver reset it); the model was loaded again.</source>
        <translation>Le GPU a cessé de répondre (son pilote l’a réinitialisé)&#x202f;; le modèle a été rechargé.</translation>
    </message>
    <message>
        <source>The GPU stopped responding again (its driver reset it twice within %1 minutes). Penser is reloading the model on the CPU, which is slower; press Regenerate to try again.</source>
        <translation>Le GPU a de nouveau cessé de répondre (son pilote l’a réinitialisé deux fois en %1 minutes). Penser recharge le modèle sur le CPU, plus lent&#x202f;; appuyez sur Régénérer pour réessayer.</translation>
    </message>
    <message>
        <source>The GPU stopped responding twice within %1 minutes: running on the CPU. Open the model again to use the GPU.</source>
        <translation>Le GPU a cessé de répondre deux fois en %1 minutes&#xa0;: calcul sur le CPU. Rouvrez le modèle pour utiliser le GPU.</translation>
    </message>
    <message>
        <source>The GPU stopped responding twice within %1 minutes (its driver reset it), and the CPU cannot hold this model instead. %2 Or update the GPU driver, then open the model again.</source>
        <translation>Le GPU a cessé de répondre deux fois en %1 minutes (son pilote l’a réinitialisé), et le CPU ne peut pas non plus contenir ce modèle. %2 Ou mettez à jour le pilote du GPU, puis rouvrez le modèle.</translation>
    </message>
    <message>
        <source>The GPU chosen in the settings, %1, is not present: the default device is used until it is back.</source>
        <translation>Le GPU choisi dans les paramètres, %1, est absent&#xa0;: le périphérique par défaut est utilisé jusqu’à son retour.</translation>
    </message>
    <message>
        <source>Penser ended while it was starting the GPU the last time it ran (a GPU driver that crashes does that), so this model runs on the CPU. Reload it to try the GPU again; if Penser ends again, update the GPU driver or choose the CPU backend in the settings.</source>
        <translation>Penser s’est arrêté pendant le démarrage du GPU lors de sa dernière exécution (c’est ce que fait un pilote de GPU qui plante)&#x202f;; ce modèle tourne donc sur le CPU. Rechargez-le pour réessayer le GPU&#x202f;; si Penser s’arrête encore, mettez à jour le pilote du GPU ou choisissez le moteur CPU dans les paramètres.</translation>
    </message>
</context>
<context>
    <name>penser::gui::ExportController</name>
    <message>
        <source>Markdown</source>
        <translation>Markdown</translation>
    </message>
    <message>
        <source>JSON (everything, can be imported)</source>
        <translation>JSON (tout, réimportable)</translation>
    </message>
    <message>
        <source>Web page (HTML)</source>
        <translation>Page web (HTML)</translation>
    </message>
    <message>
        <source>PDF</source>
        <translation>PDF</translation>
    </message>
    <message>
        <source>Plain text</source>
        <translation>Texte brut</translation>
    </message>
    <message>
        <source>There is nothing to export yet: send a message first.</source>
        <translation>Il n’y a encore rien à exporter&#xa0;: envoyez d’abord un message.</translation>
    </message>
    <message>
        <source>Penser cannot export to &quot;%1&quot;: choose Markdown, JSON, HTML, PDF or plain text.</source>
        <translation>Penser ne sait pas exporter en «&#xa0;%1&#xa0;»&#xa0;: choisissez Markdown, JSON, HTML, PDF ou texte brut.</translation>
    </message>
    <message>
        <source>Choose a file to export to.</source>
        <translation>Choisissez le fichier où exporter.</translation>
    </message>
    <message>
        <source>The export failed: %1</source>
        <translation>L’export a échoué&#xa0;: %1</translation>
    </message>
    <message numerus="yes">
        <source>Exported %n conversation(s) to %1.</source>
        <translation>
            <numerusform>%n conversation exportée dans %1.</numerusform>
            <numerusform>%n conversations exportées dans %1.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>penser::gui::MessageListModel</name>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 jetons/s</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n jeton</numerusform>
            <numerusform>%n jetons</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 s to first token</source>
        <translation>%1&#xa0;s avant le premier jeton</translation>
    </message>
</context>
<context>
    <name>penser::gui::ModelController</name>
    <message>
        <source>No file was given: choose a .gguf model file.</source>
        <translation>Aucun fichier indiqué&#xa0;: choisissez un fichier de modèle .gguf.</translation>
    </message>
    <message>
        <source>Opening the file…</source>
        <translation>Ouverture du fichier…</translation>
    </message>
    <message>
        <source>The GPU stopped responding: loading the model again…</source>
        <translation>Le GPU a cessé de répondre&#xa0;: rechargement du modèle…</translation>
    </message>
</context>
<context>
    <name>penser::gui::SearchModel</name>
    <message>
        <source>Search failed: %1</source>
        <translation>La recherche a échoué&#xa0;: %1</translation>
    </message>
</context>
<context>
    <name>penser::gui::Services</name>
    <message>
        <source>Penser cannot create its data folder %1. Choose another folder in Settings.</source>
        <translation>Penser ne peut pas créer son dossier de données %1. Choisissez un autre dossier dans les paramètres.</translation>
    </message>
    <message>
        <source>Your conversations cannot be opened (%1): %2</source>
        <translation>Vos conversations ne peuvent pas être ouvertes (%1)&#xa0;: %2</translation>
    </message>
</context>
<context>
    <name>penser::gui::SettingsController</name>
    <message>
        <source>No Vulkan device was found: Penser runs on the CPU.</source>
        <translation>Aucun périphérique Vulkan trouvé&#xa0;: Penser calcule sur le CPU.</translation>
    </message>
    <message>
        <source>No Vulkan GPU can run Penser here (only a software renderer): “auto” runs on the CPU.</source>
        <translation>Aucun GPU Vulkan ne peut faire tourner Penser ici (seulement un rendu logiciel)&#xa0;: «&#xa0;auto&#xa0;» calcule sur le CPU.</translation>
    </message>
    <message>
        <source>Conversations will be read from and saved to %1 from the next start; until then Penser keeps using %2.</source>
        <translation>Au prochain démarrage, les conversations seront lues et enregistrées dans %1&#x202f;; d’ici là, Penser continue d’utiliser %2.</translation>
    </message>
    <message>
        <source>The GPU chosen before, %1, is not present now: Penser uses the default device until it is back.</source>
        <translation>Le GPU choisi auparavant, %1, est absent&#xa0;: Penser utilise le périphérique par défaut jusqu’à son retour.</translation>
    </message>
    <message>
        <source>Penser ended while it was starting the GPU the last time it ran (a GPU driver that crashes does that), so the GPUs are listed again at the next start.</source>
        <translation>Penser s’est arrêté pendant le démarrage du GPU lors de sa dernière exécution (c’est ce que fait un pilote de GPU qui plante)&#x202f;; les GPU seront de nouveau listés au prochain démarrage.</translation>
    </message>
</context>
</TS>
